import pytest

from lightbox.config import Config
from lightbox.errors import ConfigError


def test_defaults_need_no_environment() -> None:
    config = Config.from_env({})
    assert config.thumbnail_sizes == (256, 1280)
    assert config.jpeg_quality == 85
    assert config.max_upload_bytes == 5 * 1024**4  # S3's object limit
    assert config.multipart_threshold_bytes == 64 * 1024**2
    assert config.oidc_issuer is None and config.oidc_jwks_url is None
    assert config.s3_path_style is False
    assert config.database_url is None


def test_values_come_from_the_environment() -> None:
    config = Config.from_env({
        "DATABASE_URL": "postgresql://db/lightbox",
        "LIGHTBOX_BUCKET": "media",
        "LIGHTBOX_THUMBNAIL_SIZES": "1280, 64,256,256",
        "LIGHTBOX_MAX_UPLOAD_BYTES": "1000",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    })
    assert config.database_url == "postgresql://db/lightbox"
    assert config.bucket == "media"
    assert config.thumbnail_sizes == (64, 256, 1280)
    assert config.max_upload_bytes == 1000
    assert config.s3_path_style is True


def test_an_oidc_issuer_publishes_its_keys_where_cognito_does_unless_told() -> None:
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
    config = Config.from_env({"LIGHTBOX_OIDC_ISSUER": issuer + "/"})
    assert config.oidc_issuer == issuer
    assert config.oidc_jwks_url == f"{issuer}/.well-known/jwks.json"
    assert config.oidc_owner_claim == "sub"
    other = Config.from_env({"LIGHTBOX_OIDC_ISSUER": "https://id.example",
                             "LIGHTBOX_OIDC_JWKS_URL": "https://id.example/keys"})
    assert other.oidc_jwks_url == "https://id.example/keys"


def test_an_explicit_addressing_style_wins() -> None:
    env = {"AWS_ENDPOINT_URL": "http://minio:9000", "LIGHTBOX_S3_PATH_STYLE": "false"}
    assert Config.from_env(env).s3_path_style is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LIGHTBOX_JPEG_QUALITY", "high", "LIGHTBOX_JPEG_QUALITY must be a whole number"),
        ("LIGHTBOX_JPEG_QUALITY", "100", "at most 95"),
        ("LIGHTBOX_MAX_UPLOAD_BYTES", "0", "at least 1"),
        ("LIGHTBOX_MAX_UPLOAD_BYTES", str(6 * 1024**4), "at most"),
        ("LIGHTBOX_MULTIPART_PART_BYTES", str(1024**2), "at least 5242880"),
        ("LIGHTBOX_THUMBNAIL_SIZES", "small", "pixel sizes like 256,1280"),
        ("LIGHTBOX_THUMBNAIL_SIZES", "8,256", "between 16 and 8192"),
        ("LIGHTBOX_S3_PATH_STYLE", "maybe", "true or false"),
        # Import sources are whole folders, {owner} one of them: "photos/{owner}" would give
        # owner "al" what is under "alice".
        ("LIGHTBOX_IMPORT_SOURCES", "archive", "BUCKET/PREFIX/ patterns of whole folders"),
        ("LIGHTBOX_IMPORT_SOURCES", "archive/photos", "not 'archive/photos'"),
        ("LIGHTBOX_IMPORT_SOURCES", "archive/photos/{owner}", "whole folders"),
        ("LIGHTBOX_IMPORT_SOURCES", "archive/{owner}-photos/", "whole folders"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env({name: value})


def test_import_sources_are_whole_folders() -> None:
    assert Config.from_env({}).import_sources == ("{bucket}/imports/{owner}/",)
    sources = "archive/,{bucket}/imports/{owner}/,scans/{owner}/raw/"
    assert Config.from_env({"LIGHTBOX_IMPORT_SOURCES": sources}).import_sources == (
        "archive/", "{bucket}/imports/{owner}/", "scans/{owner}/raw/")


def test_require_names_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match="LIGHTBOX_THUMBNAIL_QUEUE_URL is not set"):
        Config.from_env({}).require("thumbnail_queue_url")
