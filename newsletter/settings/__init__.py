"""Sections of ``newsletter.toml`` beyond content and collecting (see ``newsletter.config``)."""
