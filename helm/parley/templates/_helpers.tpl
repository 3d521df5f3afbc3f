{{/*
Names, labels and the per-service facts every template shares. A "service" below is one of
Parley's processes (gateway, account, idgen, chat, presence, notify, discovery); templates
range over "parley.services" and call these helpers with (dict "root" $ "name" <service>).
*/}}

{{- define "parley.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-parley", or the release name alone when it already holds the chart's name. */}}
{{- define "parley.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "parley.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels of every object of the release (root context). */}}
{{- define "parley.labels" -}}
helm.sh/chart: {{ include "parley.chart" . }}
{{ include "parley.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: parley
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* What selects every pod of the release (NetworkPolicies use it for "pods of the release"). */}}
{{- define "parley.selectorLabels" -}}
app.kubernetes.io/name: {{ include "parley.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one service's objects: (dict "root" $ "name" "chat"). */}}
{{- define "parley.componentLabels" -}}
{{ include "parley.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* What selects one service's pods: (dict "root" $ "name" "chat"). */}}
{{- define "parley.componentSelectorLabels" -}}
{{ include "parley.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/*
Labels of one service's pods: no chart version, so that a new chart version with nothing else
changed does not restart every pod (every gateway restart moves its clients).
*/}}
{{- define "parley.podLabels" -}}
{{ include "parley.componentSelectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: parley
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* "<fullname>-<service>": (dict "root" $ "name" "chat"). */}}
{{- define "parley.componentName" -}}
{{- printf "%s-%s" (include "parley.fullname" .root) .name -}}
{{- end -}}

{{/* The services this release runs, in start order, as a YAML list (fromYamlArray). */}}
{{- define "parley.services" -}}
- account
- idgen
- presence
- notify
- chat
- gateway
{{- if .Values.discovery.enabled }}
- discovery
{{- end }}
{{- end -}}

{{/* Those with an Ed25519 service key (idgen and discovery call nobody and have none). */}}
{{- define "parley.hasServiceKey" -}}
{{- if has .name (list "gateway" "account" "chat" "presence" "notify") }}true{{ end -}}
{{- end -}}

{{/* Those with a Postgres store (and DATA_DIR for its embedded fallback). */}}
{{- define "parley.usesDatabase" -}}
{{- if has .name (list "account" "chat" "presence" "notify") }}true{{ end -}}
{{- end -}}

{{/* The prefix of a service's own variables (CHAT_HOST, CHAT_PORT, CHAT_ADVERTISE_ADDRESS). */}}
{{- define "parley.envPrefix" -}}
{{- upper .name -}}
{{- end -}}

{{- define "parley.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "parley.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "parley.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Whether a service's port serves TLS, so its probes use HTTPS (the kubelet does not verify
the certificate): the gateway's public port with publicTls, every internal port with
internalPlane.tls.
*/}}
{{- define "parley.probeScheme" -}}
{{- $values := .root.Values -}}
{{- if eq .name "gateway" -}}
{{- ternary "HTTPS" "HTTP" $values.gateway.publicTls.enabled -}}
{{- else -}}
{{- ternary "HTTPS" "HTTP" $values.internalPlane.tls.enabled -}}
{{- end -}}
{{- end -}}

{{/*
ALLOW_PLAINTEXT: a server bound beyond loopback without TLS refuses to start unless it is
set, and so does an etcd password sent to an http:// endpoint. Set when the internal plane
has no TLS (a mesh encrypts), on the gateway when TLS ends at the load balancer, and when
etcd's password goes to http:// endpoints.
*/}}
{{- define "parley.allowPlaintext" -}}
{{- $values := .root.Values -}}
{{- $etcdHttp := false -}}
{{- range $values.etcd.endpoints -}}
{{- if hasPrefix "http://" . }}{{ $etcdHttp = true }}{{ end -}}
{{- end -}}
{{- $plain := or (not $values.internalPlane.tls.enabled) (and (eq .name "gateway") (not $values.gateway.publicTls.enabled)) (and $etcdHttp (ne $values.etcd.auth.username "")) -}}
{{- ternary "true" "false" $plain -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds: the preStop sleep, then the process's own stop budget
(SHUTDOWN_GRACE_MS, plus the gateway's 5 s for its sockets to close), then the 5 s margin
runService allows before it exits on its own, then 5 s to spare, so that Kubernetes never
kills a process that is still draining.
*/}}
{{- define "parley.terminationGracePeriodSeconds" -}}
{{- $values := .root.Values -}}
{{- $service := index $values .name -}}
{{- $graceSeconds := div (add (int $values.config.shutdownGraceMs) 999) 1000 -}}
{{- $socketsSeconds := ternary 5 0 (eq .name "gateway") -}}
{{- add (int $service.preStopSleepSeconds) $graceSeconds $socketsSeconds 5 5 -}}
{{- end -}}

{{/* Secret and ConfigMap names: the user's existing one, or the one the chart makes. */}}
{{- define "parley.trustConfigMapName" -}}
{{- default (printf "%s-trust" (include "parley.fullname" .)) .Values.internalPlane.trust.existingConfigMap -}}
{{- end -}}

{{/* (dict "root" $ "name" "chat") */}}
{{- define "parley.serviceKeySecretName" -}}
{{- $key := index .root.Values.internalPlane.serviceKeys .name -}}
{{- default (printf "%s-service-key" (include "parley.componentName" .)) $key.existingSecret -}}
{{- end -}}

{{- define "parley.internalTlsSecretName" -}}
{{- default (printf "%s-internal-tls" (include "parley.fullname" .)) .Values.internalPlane.tls.existingSecret -}}
{{- end -}}

{{- define "parley.publicTlsSecretName" -}}
{{- default (printf "%s-public-tls" (include "parley.fullname" .)) .Values.gateway.publicTls.existingSecret -}}
{{- end -}}

{{- define "parley.accountTokenSecretName" -}}
{{- default (printf "%s-account-token" (include "parley.fullname" .)) .Values.accountTokenSecret.existingSecret -}}
{{- end -}}

{{- define "parley.databaseSecretName" -}}
{{- default (printf "%s-database" (include "parley.fullname" .)) .Values.postgres.existingSecret -}}
{{- end -}}

{{/* Whether DATABASE_PASSWORD_FILE is given (a password in values, or a Secret holding it). */}}
{{- define "parley.hasDatabasePassword" -}}
{{- if or .Values.postgres.password .Values.postgres.existingSecret }}true{{ end -}}
{{- end -}}

{{- define "parley.postgresTlsSecretName" -}}
{{- default (printf "%s-postgres-tls" (include "parley.fullname" .)) .Values.postgres.tls.existingSecret -}}
{{- end -}}

{{- define "parley.etcdAuthSecretName" -}}
{{- default (printf "%s-etcd-auth" (include "parley.fullname" .)) .Values.etcd.auth.existingSecret -}}
{{- end -}}

{{- define "parley.etcdTlsSecretName" -}}
{{- default (printf "%s-etcd-tls" (include "parley.fullname" .)) .Values.etcd.tls.existingSecret -}}
{{- end -}}

{{- define "parley.cassandraAuthSecretName" -}}
{{- default (printf "%s-cassandra-auth" (include "parley.fullname" .)) .Values.cassandra.auth.existingSecret -}}
{{- end -}}

{{/* notify's provider secrets as environment variables: name -> value (only those set). */}}
{{- define "parley.notifyProviderSecrets" -}}
{{- $providers := .Values.notify.providers -}}
{{- $secrets := dict -}}
{{- with $providers.fcm.serviceAccountJson }}{{ $_ := set $secrets "FCM_SERVICE_ACCOUNT_JSON" . }}{{ end -}}
{{- with $providers.apns.privateKey }}{{ $_ := set $secrets "APNS_PRIVATE_KEY" . }}{{ end -}}
{{- with $providers.webPush.privateKey }}{{ $_ := set $secrets "WEBPUSH_VAPID_PRIVATE_KEY" . }}{{ end -}}
{{- with $providers.email.smtpUrl }}{{ $_ := set $secrets "SMTP_URL" . }}{{ end -}}
{{- with $providers.sms.apiToken }}{{ $_ := set $secrets "SMS_API_TOKEN" . }}{{ end -}}
{{- toYaml $secrets -}}
{{- end -}}

{{/* The Secret given to notify with envFrom, or nothing when no provider secret is set. */}}
{{- define "parley.notifyProvidersSecretName" -}}
{{- if .Values.notify.providers.existingSecret -}}
{{- .Values.notify.providers.existingSecret -}}
{{- else if (include "parley.notifyProviderSecrets" . | fromYaml) -}}
{{- printf "%s-notify-providers" (include "parley.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* One NetworkPolicy egress rule from networkPolicy.egress.<name>: its ports, to `to` (empty: anywhere). */}}
{{- define "parley.egressRule" -}}
- ports:
    {{- toYaml .ports | nindent 4 }}
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
