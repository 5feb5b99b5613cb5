"""Beyond one machine: the same questions asked of Amazon Athena (the Athena table over a trail's
S3 delivery; later the filter as Athena SQL, and the run that brings back only the files that
matter)."""
