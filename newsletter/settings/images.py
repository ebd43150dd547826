"""[images] in newsletter.toml: how `build` prepares story images (see render/images.py).

``newsletter.config`` includes it as ``Config.images``.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator

from newsletter.models import check_http_url


class ImageSettings(BaseModel):
    """Download limits, the weight budget, and folders that hold copies of remote images."""

    model_config = ConfigDict(extra="forbid")

    prepare: bool = Field(default=True, description="false: link images where sources put them.")
    budget_kb: int = Field(default=1500, ge=1, description="An issue's images; check warns above.")
    max_download_mb: float = Field(default=15.0, gt=0, le=200, description="Larger: refused.")
    max_megapixels: float = Field(
        default=50.0, gt=0, le=500, description="Larger (a decompression bomb?): refused."
    )
    timeout: float = Field(default=10.0, gt=0, le=300, description="Read timeout, in seconds.")
    total_timeout: float = Field(default=30.0, gt=0, le=600, description="Per download, in s.")
    local_copies: dict[str, str] = Field(
        default_factory=dict,
        description="Image URL prefix -> project folder with the same files, read instead.",
    )

    @field_validator("local_copies")
    @classmethod
    def _urls_and_project_folders(cls, value: dict[str, str]) -> dict[str, str]:
        for prefix, folder in value.items():
            check_http_url(prefix)
            path = PurePosixPath(folder)
            if path.is_absolute() or ".." in path.parts:
                raise ValueError(f"{folder!r}: name a folder inside the project, like sources/img")
        return value
