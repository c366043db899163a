{{/*
Chart name, truncated to 63 characters (DNS label limit).
*/}}
{{- define "studiovault.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified release name. Component suffixes ("-api", "-worker", "-web")
are added to it, so it is kept short enough for them.
*/}}
{{- define "studiovault.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 56 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "studiovault.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Call with (dict "root" $ "component" "api").
*/}}
{{- define "studiovault.labels" -}}
helm.sh/chart: {{ include "studiovault.chart" .root }}
{{ include "studiovault.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: studiovault
{{- end }}

{{/*
Selector labels. Call with (dict "root" $ "component" "api").
*/}}
{{- define "studiovault.selectorLabels" -}}
app.kubernetes.io/name: {{ include "studiovault.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "studiovault.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "studiovault.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "studiovault.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "studiovault.webImage" -}}
{{- printf "%s:%s" .Values.web.image.repository (default .Chart.AppVersion .Values.web.image.tag) }}
{{- end }}

{{/* Secret with STUDIOVAULT_SECRET_KEY / STUDIOVAULT_ADMIN_PASSWORD. */}}
{{- define "studiovault.appSecretName" -}}
{{- default (include "studiovault.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Secret and key holding the database URL. */}}
{{- define "studiovault.databaseSecretName" -}}
{{- default (printf "%s-database" (include "studiovault.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{- define "studiovault.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else -}}
DATABASE_URL
{{- end }}
{{- end }}

{{- define "studiovault.primaryClaimName" -}}
{{- default (printf "%s-primary" (include "studiovault.fullname" .)) .Values.storage.primary.existingClaim }}
{{- end }}

{{- define "studiovault.mirrorClaimName" -}}
{{- default (printf "%s-mirror" (include "studiovault.fullname" .)) .Values.storage.mirror.existingClaim }}
{{- end }}

{{/* In-cluster address of the API, as host:port, for the web pod's nginx. */}}
{{- define "studiovault.apiUpstream" -}}
{{- printf "%s-api.%s.svc.%s:%v" (include "studiovault.fullname" .) .Release.Namespace .Values.clusterDomain .Values.api.service.port }}
{{- end }}

{{/*
Settings that the schema cannot express; fail early with a clear message.
*/}}
{{- define "studiovault.validate" -}}
{{- if and .Values.database.url .Values.database.existingSecret }}
{{- fail "Set only one of database.url and database.existingSecret." }}
{{- end }}
{{- if not (or .Values.database.url .Values.database.existingSecret) }}
{{- fail "An external Postgres is required: set database.url or database.existingSecret (e.g. CloudNativePG's <cluster>-app Secret)." }}
{{- end }}
{{- if and (not .Values.secrets.existingSecret) (lt (len .Values.secrets.secretKey) 32) }}
{{- fail "Set secrets.secretKey (at least 32 characters) or secrets.existingSecret." }}
{{- end }}
{{- if and .Values.storage.primary.existingClaim (eq .Values.storage.primary.existingClaim .Values.storage.mirror.existingClaim) }}
{{- fail "storage.primary and storage.mirror must be different volumes (two copies on two devices)." }}
{{- end }}
{{- end }}

{{/*
Environment shared by the API and the worker containers.
*/}}
{{- define "studiovault.appEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "studiovault.databaseSecretName" . }}
      key: {{ include "studiovault.databaseSecretKey" . }}
- name: STUDIOVAULT_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "studiovault.appSecretName" . }}
      key: STUDIOVAULT_SECRET_KEY
{{- end }}

{{/*
Volume mounts and volumes shared by the API and the worker.
*/}}
{{- define "studiovault.appVolumeMounts" -}}
- name: primary
  mountPath: /pools/primary
- name: mirror
  mountPath: /pools/mirror
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "studiovault.appVolumes" -}}
- name: primary
  persistentVolumeClaim:
    claimName: {{ include "studiovault.primaryClaimName" . }}
- name: mirror
  persistentVolumeClaim:
    claimName: {{ include "studiovault.mirrorClaimName" . }}
- name: data
{{- if .Values.storage.data.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.storage.data.existingClaim }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.storage.data.sizeLimit }}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end }}

{{/* Checksums that roll the pods when their configuration changes. */}}
{{- define "studiovault.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
