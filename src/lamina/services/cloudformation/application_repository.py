"""The Serverless Application Repository as Lamina has it: not at all. aws-sam-translator asks SAR for an
`AWS::Serverless::Application` whose Location is `{ApplicationId, SemanticVersion}`; left to itself it would build a
boto3 `serverlessrepo` client and call AWS. This stand-in answers every such call as SAR answers an application
the caller cannot reach (NotFoundException), which the translator turns into the resource's own invalid-resource
error, so the stack fails with a clear reason and nothing leaves the machine."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

UNAVAILABLE = "The Serverless Application Repository is not available in Lamina"


class NoApplicationRepository:
    def _refuse(self, operation: str) -> ClientError:
        error: Any = {"Error": {"Code": "NotFoundException", "Message": UNAVAILABLE}}
        return ClientError(error, operation)

    def get_application(self, **_: Any) -> dict[str, Any]:
        raise self._refuse("GetApplication")

    def create_cloud_formation_template(self, **_: Any) -> dict[str, Any]:
        raise self._refuse("CreateCloudFormationTemplate")

    def get_cloud_formation_template(self, **_: Any) -> dict[str, Any]:
        raise self._refuse("GetCloudFormationTemplate")
