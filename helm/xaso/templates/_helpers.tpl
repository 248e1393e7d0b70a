{{/*
Names, labels and the pieces every pod shares (web, worker, scheduler, migration job).
*/}}

{{- define "xaso.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "xaso.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "xaso.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "xaso.labels" -}}
helm.sh/chart: {{ include "xaso.chart" . }}
{{ include "xaso.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "xaso.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xaso.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: include "xaso.componentLabels" (list . "web") */}}
{{- define "xaso.componentLabels" -}}
{{ include "xaso.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "xaso.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "xaso.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "xaso.secretName" -}}
{{- default (printf "%s-secrets" (include "xaso.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "xaso.configMapName" -}}
{{- printf "%s-config" (include "xaso.fullname" .) }}
{{- end }}

{{- define "xaso.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Settings from the ConfigMap and the Secret: the same environment in every container. */}}
{{- define "xaso.envFrom" -}}
- configMapRef:
    name: {{ include "xaso.configMapName" . }}
- secretRef:
    name: {{ include "xaso.secretName" . }}
{{- end }}

{{/* Restart pods when settings change (the ConfigMap and a chart-managed Secret). */}}
{{- define "xaso.checksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}

{{/* /tmp is the only writable place (readOnlyRootFilesystem): instance path, upload spooling. */}}
{{- define "xaso.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit | default "1Gi" }}
{{- end }}

{{- define "xaso.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
