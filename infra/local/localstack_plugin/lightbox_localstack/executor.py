"""A Lambda runtime executor that lets LocalStack create functions without Docker.

LocalStack's own executor needs Docker and downloads its runtime binary while it creates a
function, so without Docker a stack with functions cannot even be created. This one keeps
the code and runs nothing: the deploy test deploys the whole stack to LocalStack, and the
local runtime's bridge runs the functions against the deployed queues and bucket.
Selected with LAMBDA_RUNTIME_EXECUTOR=inert.
"""

from __future__ import annotations

from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

NOT_RUN = "this LocalStack stores functions but does not run them (no Docker): use the local bridge"


class InertRuntimeExecutor(RuntimeExecutor):
    def start(self, env_vars: dict[str, str]) -> None:
        raise LambdaRuntimeException(NOT_RUN)

    def stop(self) -> None:
        pass

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return ""

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        raise LambdaRuntimeException(NOT_RUN)

    def get_logs(self) -> str:
        return NOT_RUN

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass


class InertExecutorPlugin(RuntimeExecutorPlugin):
    name = "inert"

    def load(self, *args: object, **kwargs: object) -> type[RuntimeExecutor]:
        return InertRuntimeExecutor
