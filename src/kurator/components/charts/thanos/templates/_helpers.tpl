{{- define "thanos.labels" -}}
app.kubernetes.io/name: thanos
app.kubernetes.io/part-of: kurator-monitoring
{{- end -}}

{{/* Fails the render when a value kurator.monitoring renders was not given; prints nothing. */}}
{{- define "thanos.require" -}}
{{- range $name, $value := . -}}
{{- if empty $value -}}
{{- fail (printf "%s is rendered by kurator.monitoring.manifests.thanos_values(); it is empty" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The pod spec shared by the three components: (dict "root" $ "name" "query" "spec" .Values.query "grpc" true "data" false) */}}
{{- define "thanos.pod" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "thanos.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .name }}
spec:
  # Thanos needs nothing from the API server.
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 65534
    runAsGroup: 65534
    fsGroup: 65534
  containers:
    - name: {{ .name }}
      image: {{ $root.Values.image | quote }}
      args: {{ .spec.args | toJson }}
      ports:
        - name: http
          containerPort: {{ .spec.httpPort }}
        {{- if .grpc }}
        - name: grpc
          containerPort: {{ .spec.grpcPort }}
        {{- end }}
      readinessProbe:
        httpGet:
          path: /-/ready
          port: http
      resources: {{- toYaml .spec.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      {{- if .data }}
      volumeMounts:
        - name: objstore
          mountPath: {{ $root.Values.paths.objstore }}
          readOnly: true
        - name: data
          mountPath: {{ $root.Values.paths.data }}
      {{- end }}
  {{- if .data }}
  volumes:
    - name: objstore
      secret:
        secretName: thanos-objstore
        defaultMode: 0440
    - name: data
      emptyDir: {}
  {{- end }}
{{- end -}}
