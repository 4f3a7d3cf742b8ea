"""Prometheus and Thanos configuration, rendered once and used twice: by the charts kurator installs on a
fleet and by the local fleet, which runs the same components as processes. Pure functions, except
``bucketcheck.check_bucket``, which asks the object store whether the bucket is there."""
