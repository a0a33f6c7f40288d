"""S3's errors: each is a code AWS names, its HTTP status, its message and the members AWS adds to the
`<Error>` document (BucketName, Key, ...), plus headers a few errors carry (`x-amz-delete-marker`)."""

from __future__ import annotations

from lamina.errors import ServiceFault


class S3Error(ServiceFault):
    def __init__(
        self, code: str, message: str, status: int = 400, headers: list[tuple[str, str]] | None = None, **fields: object
    ) -> None:
        super().__init__(code, message, status)
        self.fields = fields
        self.headers = headers or []

    @classmethod
    def named(cls, code: str, message: str, status: int, fields: dict[str, object]) -> S3Error:
        """An error whose members have names no keyword can spell (`Content-MD5`, `X-Amz-Expires`)."""
        error = cls(code, message, status)
        error.fields = dict(fields)
        return error


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str, headers: list[tuple[str, str]] | None = None) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, headers, Key=key)


def no_such_version(key: str, version_id: str) -> S3Error:
    return S3Error("NoSuchVersion", "The specified version does not exist.", 404, Key=key, VersionId=version_id)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted "
        "or completed.",
        404,
        UploadId=upload_id,
    )


def invalid_argument(message: str, name: str, value: object) -> S3Error:
    return S3Error("InvalidArgument", message, 400, ArgumentName=name, ArgumentValue=value)


def precondition_failed(condition: str) -> S3Error:
    return S3Error(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, Condition=condition
    )


def malformed_xml() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
