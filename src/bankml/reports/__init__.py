"""Reports rendered from stored evidence: the validation report (HTML with inline SVG, PDF)."""
