{{/*
The non-secret environment of one service, as a YAML map: (dict "root" $ "name" "chat").
It fills the service's ConfigMap, and its hash is the pod's checksum/config annotation, so a
change rolls that service's pods. Variables that need the pod's own IP or name are set in
the Deployment (Kubernetes expands $(POD_IP) only there). Files are mounted under
/etc/parley (see deployments.yaml); the README's Configuration table says what each means.
*/}}
{{- define "parley.configData" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $name := .name -}}
{{- $service := index $values $name -}}
{{- $data := dict -}}
{{- /* every process */ -}}
{{- $_ := set $data "LOG_LEVEL" $values.config.logLevel -}}
{{- $_ := set $data "SHUTDOWN_GRACE_MS" (toString (int $values.config.shutdownGraceMs)) -}}
{{- $_ := set $data "SERVICE_TOKEN_TTL_SECONDS" (toString (int $values.config.serviceTokenTtlSeconds)) -}}
{{- $_ := set $data "CREDENTIALS_RELOAD_MS" (toString (int $values.config.credentialsReloadMs)) -}}
{{- $_ := set $data "ALLOW_PLAINTEXT" (include "parley.allowPlaintext" .) -}}
{{- with $service.zone }}{{ $_ := set $data "ZONE" . }}{{ end -}}
{{- with $service.nodeOptions }}{{ $_ := set $data "NODE_OPTIONS" . }}{{ end -}}
{{- /* the registry */ -}}
{{- $_ := set $data "ETCD_ENDPOINTS" (join "," $values.etcd.endpoints) -}}
{{- $_ := set $data "ETCD_PREFIX" $values.etcd.prefix -}}
{{- $_ := set $data "ETCD_TIMEOUT_MS" (toString (int $values.etcd.timeoutMs)) -}}
{{- $_ := set $data "DISCOVERY_LEASE_TTL_SECONDS" (toString (int $values.etcd.leaseTtlSeconds)) -}}
{{- $_ := set $data "DISCOVERY_START_TIMEOUT_MS" (toString (int $values.etcd.startTimeoutMs)) -}}
{{- with $values.etcd.auth.username -}}
{{- $_ := set $data "ETCD_USERNAME" . -}}
{{- $_ := set $data "ETCD_PASSWORD_FILE" "/etc/parley/etcd-auth/password" -}}
{{- end -}}
{{- if $values.etcd.tls.enabled -}}
{{- $_ := set $data "ETCD_CA_FILE" "/etc/parley/etcd-tls/ca.crt" -}}
{{- if $values.etcd.tls.clientCertificate -}}
{{- $_ := set $data "ETCD_CERT_FILE" "/etc/parley/etcd-tls/tls.crt" -}}
{{- $_ := set $data "ETCD_KEY_FILE" "/etc/parley/etcd-tls/tls.key" -}}
{{- end -}}
{{- end -}}
{{- /* the internal plane */ -}}
{{- $_ := set $data "SERVICE_TRUST_FILE" "/etc/parley/trust/trust.json" -}}
{{- if include "parley.hasServiceKey" . -}}
{{- $_ := set $data "SERVICE_KEY_FILE" "/etc/parley/service-key/service.key" -}}
{{- end -}}
{{- if $values.internalPlane.tls.enabled -}}
{{- $_ := set $data "TLS_CERT_FILE" "/etc/parley/tls/tls.crt" -}}
{{- $_ := set $data "TLS_KEY_FILE" "/etc/parley/tls/tls.key" -}}
{{- $_ := set $data "TLS_CA_FILE" "/etc/parley/tls/ca.crt" -}}
{{- $_ := set $data "TLS_SERVER_NAME" $values.internalPlane.tls.serverName -}}
{{- end -}}
{{- /* where it listens */ -}}
{{- if eq $name "gateway" -}}
{{- $_ := set $data "HOST" $values.config.listenHost -}}
{{- $_ := set $data "PORT" (toString (int $service.port)) -}}
{{- $_ := set $data "GATEWAY_INTERNAL_HOST" $values.config.listenHost -}}
{{- $_ := set $data "GATEWAY_INTERNAL_PORT" (toString (int $service.internalPort)) -}}
{{- else -}}
{{- $prefix := include "parley.envPrefix" . -}}
{{- $_ := set $data (printf "%s_HOST" $prefix) $values.config.listenHost -}}
{{- $_ := set $data (printf "%s_PORT" $prefix) (toString (int $service.port)) -}}
{{- end -}}
{{- /* storage */ -}}
{{- if include "parley.usesDatabase" . -}}
{{- $_ := set $data "DATA_DIR" "/data" -}}
{{- $_ := set $data "DATABASE_URL" $values.postgres.url -}}
{{- if include "parley.hasDatabasePassword" $root -}}
{{- $_ := set $data "DATABASE_PASSWORD_FILE" "/etc/parley/database/password" -}}
{{- end -}}
{{- end -}}
{{- /* each service's own */ -}}
{{- if eq $name "gateway" -}}
{{- $_ := set $data "GATEWAY_CAPACITY" (toString (int $service.capacity)) -}}
{{- $_ := set $data "GATEWAY_TRUSTED_PROXIES" (join "," $service.trustedProxies) -}}
{{- $_ := set $data "GATEWAY_ALLOWED_ORIGINS" (join "," $service.allowedOrigins) -}}
{{- with $service.publicUrl }}{{ $_ := set $data "GATEWAY_PUBLIC_URL" . }}{{ end -}}
{{- if $service.publicTls.enabled -}}
{{- $_ := set $data "PUBLIC_TLS_CERT_FILE" "/etc/parley/public-tls/tls.crt" -}}
{{- $_ := set $data "PUBLIC_TLS_KEY_FILE" "/etc/parley/public-tls/tls.key" -}}
{{- end -}}
{{- else if eq $name "chat" -}}
{{- if $values.kafka.enabled -}}
{{- $_ := set $data "CHAT_DELIVERY_BUS" "kafka" -}}
{{- $_ := set $data "KAFKA_BROKERS" (join "," $values.kafka.brokers) -}}
{{- $_ := set $data "KAFKA_TOPIC" $values.kafka.topic -}}
{{- $_ := set $data "KAFKA_CONSUMER_GROUP" $values.kafka.consumerGroup -}}
{{- $_ := set $data "KAFKA_CLIENT_ID" $values.kafka.clientId -}}
{{- $_ := set $data "KAFKA_TOPIC_PARTITIONS" (toString (int $values.kafka.topicPartitions)) -}}
{{- $_ := set $data "KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY" (toString (int $values.kafka.partitionsConsumedConcurrently)) -}}
{{- else -}}
{{- $_ := set $data "CHAT_DELIVERY_BUS" "memory" -}}
{{- end -}}
{{- if $values.cassandra.enabled -}}
{{- $_ := set $data "CHAT_MESSAGE_STORE" "cassandra" -}}
{{- $_ := set $data "CASSANDRA_CONTACT_POINTS" (join "," $values.cassandra.contactPoints) -}}
{{- $_ := set $data "CASSANDRA_LOCAL_DATACENTER" $values.cassandra.localDatacenter -}}
{{- $_ := set $data "CASSANDRA_KEYSPACE" $values.cassandra.keyspace -}}
{{- $_ := set $data "CASSANDRA_REPLICATION_FACTOR" (toString (int $values.cassandra.replicationFactor)) -}}
{{- with $values.cassandra.auth.username -}}
{{- $_ := set $data "CASSANDRA_USERNAME" . -}}
{{- $_ := set $data "CASSANDRA_PASSWORD_FILE" "/etc/parley/cassandra-auth/password" -}}
{{- end -}}
{{- else -}}
{{- $_ := set $data "CHAT_MESSAGE_STORE" "sql" -}}
{{- end -}}
{{- else if eq $name "notify" -}}
{{- $providers := $service.providers -}}
{{- $_ := set $data "NOTIFY_RECORDING" (ternary "true" "false" $service.recording) -}}
{{- with $providers.apns.teamId }}{{ $_ := set $data "APNS_TEAM_ID" . }}{{ end -}}
{{- with $providers.apns.keyId }}{{ $_ := set $data "APNS_KEY_ID" . }}{{ end -}}
{{- with $providers.apns.topic }}{{ $_ := set $data "APNS_TOPIC" . }}{{ end -}}
{{- with $providers.apns.url }}{{ $_ := set $data "APNS_URL" . }}{{ end -}}
{{- with $providers.webPush.subject }}{{ $_ := set $data "WEBPUSH_VAPID_SUBJECT" . }}{{ end -}}
{{- with $providers.webPush.publicKey }}{{ $_ := set $data "WEBPUSH_VAPID_PUBLIC_KEY" . }}{{ end -}}
{{- with $providers.email.from }}{{ $_ := set $data "EMAIL_FROM" . }}{{ end -}}
{{- with $providers.sms.apiUrl }}{{ $_ := set $data "SMS_API_URL" . }}{{ end -}}
{{- end -}}
{{- /* the operator's own settings last (values.schema.json refuses the names above) */ -}}
{{- range $key, $value := $service.env -}}
{{- $_ := set $data $key $value -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}
