{{- define "operator.name" -}}
kurator-{{ .Release.Name }}
{{- end -}}

{{- define "operator.labels" -}}
app.kubernetes.io/name: kurator-cluster-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: kurator
{{- end -}}
