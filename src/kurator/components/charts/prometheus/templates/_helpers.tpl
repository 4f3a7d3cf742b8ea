{{- define "prometheus.labels" -}}
app.kubernetes.io/name: prometheus
app.kubernetes.io/part-of: kurator-monitoring
{{- end -}}

{{- define "prometheus.selector" -}}
app.kubernetes.io/name: prometheus
{{- end -}}

{{/* Fails the render when a value kurator.monitoring renders was not given; prints nothing. */}}
{{- define "prometheus.require" -}}
{{- range $name, $value := . -}}
{{- if empty $value -}}
{{- fail (printf "%s is rendered by kurator.monitoring.manifests.prometheus_values(); it is empty" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "prometheus.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
