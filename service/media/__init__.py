"""Media: image uploads through Pillow, responsive variants, local or S3 storage."""
