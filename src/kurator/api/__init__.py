"""The custom resources of kurator's cluster operator (group ``cluster.kurator.dev``): pydantic models, the
validation rules the API server enforces (OpenAPI + CEL) mirrored in Python, and the CRDs generated from
the models, so the models are the one source of truth."""
