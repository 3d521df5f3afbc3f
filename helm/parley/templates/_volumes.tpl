{{/*
One service's volumes and their mounts: (dict "root" $ "name" "chat"). Every file a variable
in _config.tpl names lives under /etc/parley/<volume>/. Whole directories are mounted (never
subPath), so Kubernetes' updates of Secrets and ConfigMaps reach the files, which the services
re-read: the service key, the trust file and the internal and public certificates within
CREDENTIALS_RELOAD_MS, passwords at each new connection or sign-in (etcd's and Postgres's CA and
client certificate only at start).
Secret files are 0440 (owner root, group fsGroup: the parley user reads them, nobody else).
*/}}

{{/* name -> (path, volume source) of the volumes this service mounts, as YAML. */}}
{{- define "parley.volumeSet" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $name := .name -}}
{{- $set := dict -}}
{{- $_ := set $set "tmp" (dict "path" "/tmp" "source" (dict "emptyDir" (dict "sizeLimit" $values.tmpVolume.sizeLimit))) -}}
{{- if include "parley.usesDatabase" . -}}
{{- if $values.dataVolume.existingClaim -}}
{{- $_ := set $set "data" (dict "path" "/data" "source" (dict "persistentVolumeClaim" (dict "claimName" $values.dataVolume.existingClaim))) -}}
{{- else -}}
{{- $_ := set $set "data" (dict "path" "/data" "source" (dict "emptyDir" (dict "sizeLimit" $values.dataVolume.sizeLimit))) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $set "trust" (dict "path" "/etc/parley/trust" "source" (dict "configMap" (dict "name" (include "parley.trustConfigMapName" $root) "items" (list (dict "key" "trust.json" "path" "trust.json"))))) -}}
{{- if include "parley.hasServiceKey" . -}}
{{- $_ := set $set "service-key" (dict "path" "/etc/parley/service-key" "source" (include "parley.secretSource" (dict "name" (include "parley.serviceKeySecretName" .) "keys" (list "service.key")) | fromYaml)) -}}
{{- end -}}
{{- if $values.internalPlane.tls.enabled -}}
{{- $_ := set $set "tls" (dict "path" "/etc/parley/tls" "source" (include "parley.secretSource" (dict "name" (include "parley.internalTlsSecretName" $root) "keys" (list "tls.crt" "tls.key" "ca.crt")) | fromYaml)) -}}
{{- end -}}
{{- if and (eq $name "gateway") $values.gateway.publicTls.enabled -}}
{{- $_ := set $set "public-tls" (dict "path" "/etc/parley/public-tls" "source" (include "parley.secretSource" (dict "name" (include "parley.publicTlsSecretName" $root) "keys" (list "tls.crt" "tls.key")) | fromYaml)) -}}
{{- end -}}
{{- if and (include "parley.usesDatabase" .) (include "parley.hasDatabasePassword" $root) -}}
{{- $_ := set $set "database" (dict "path" "/etc/parley/database" "source" (include "parley.secretSource" (dict "name" (include "parley.databaseSecretName" $root) "keys" (list "password")) | fromYaml)) -}}
{{- end -}}
{{- if and (include "parley.usesDatabase" .) $values.postgres.tls.enabled -}}
{{- $_ := set $set "postgres-tls" (dict "path" "/etc/parley/postgres-tls" "source" (include "parley.secretSource" (dict "name" (include "parley.postgresTlsSecretName" $root) "keys" (list "ca.crt")) | fromYaml)) -}}
{{- end -}}
{{- if $values.etcd.auth.username -}}
{{- $_ := set $set "etcd-auth" (dict "path" "/etc/parley/etcd-auth" "source" (include "parley.secretSource" (dict "name" (include "parley.etcdAuthSecretName" $root) "keys" (list "password")) | fromYaml)) -}}
{{- end -}}
{{- if $values.etcd.tls.enabled -}}
{{- $keys := ternary (list "ca.crt" "tls.crt" "tls.key") (list "ca.crt") $values.etcd.tls.clientCertificate -}}
{{- $_ := set $set "etcd-tls" (dict "path" "/etc/parley/etcd-tls" "source" (include "parley.secretSource" (dict "name" (include "parley.etcdTlsSecretName" $root) "keys" $keys) | fromYaml)) -}}
{{- end -}}
{{- if and (eq $name "chat") $values.cassandra.enabled $values.cassandra.auth.username -}}
{{- $_ := set $set "cassandra-auth" (dict "path" "/etc/parley/cassandra-auth" "source" (include "parley.secretSource" (dict "name" (include "parley.cassandraAuthSecretName" $root) "keys" (list "password")) | fromYaml)) -}}
{{- end -}}
{{- toYaml $set -}}
{{- end -}}

{{/* A Secret volume source holding only `keys`, each file 0440: (dict "name" ... "keys" (list ...)). */}}
{{- define "parley.secretSource" -}}
secret:
  secretName: {{ .name }}
  defaultMode: 288 {{- /* 0440 */}}
  items:
    {{- range .keys }}
    - key: {{ . }}
      path: {{ . }}
    {{- end }}
{{- end -}}

{{- define "parley.volumes" -}}
{{- range $volume, $spec := include "parley.volumeSet" . | fromYaml }}
- name: {{ $volume }}
  {{- toYaml $spec.source | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "parley.volumeMounts" -}}
{{- range $volume, $spec := include "parley.volumeSet" . | fromYaml }}
- name: {{ $volume }}
  mountPath: {{ $spec.path }}
  {{- if not (has $volume (list "tmp" "data")) }}
  readOnly: true
  {{- end }}
{{- end }}
{{- end -}}
