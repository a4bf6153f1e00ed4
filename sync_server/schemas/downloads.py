"""The download catalog's answers: packs with their models, and a pack's manifest."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class SampleImage(BaseModel):
    sha256: str
    label: str | None
    url: str = Field(description="Where the image is served (GET /api/v1/downloads/files/{sha256}).")


class DownloadModelPublic(BaseModel):
    id: str
    title: str
    family: str
    variant: str
    difficulty: str | None = Field(description="easy, medium or hard (terciles of the pack's models), or null.")
    test_accuracy: float | None
    macro_f1: float | None
    size_bytes: int = Field(description="The model's files (card and ONNX).")
    onnx_sha256: str


class DownloadPackPublic(BaseModel):
    id: str
    title: str
    version: int
    licence: str
    source: str
    classes: list[str]
    image_size: list[int] | None
    images: int = Field(description="Images in the download (the game pack's test and ranked images).")
    size_bytes: int = Field(description="The pack's own files (pack.json and images).")
    download_bytes: int = Field(description="The pack and all its models: what downloading it all costs.")
    samples: list[SampleImage]
    models: list[DownloadModelPublic] = Field(description="Strongest first.")
    published_at: dt.datetime
    manifest_url: str


class DownloadPackList(BaseModel):
    packs: list[DownloadPackPublic]


class ManifestFile(BaseModel):
    path: str = Field(description="Where the file installs, relative to the game's data folder ('/'-separated).")
    sha256: str
    size: int
    model_id: str | None = Field(description="The model the file belongs to; null for the pack's own files.")


class Manifest(BaseModel):
    pack_id: str
    published_at: dt.datetime
    total_bytes: int
    files: list[ManifestFile]
