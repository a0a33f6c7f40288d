"""Layers are executed, not just stored: functions created through boto3 run code that only their layers hold.

Each test publishes layers, creates a function referencing them, invokes it and reads what it saw in
`/opt` (or, where the host offers no private root, the folders that stand for it).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.layers.support import Publisher, layer_zip, unique, wait_settled
from tests.server import ROLE, LaminaProcess

CURL_BOOTSTRAP = """
#!/bin/bash
# A custom runtime in shell, as in AWS's tutorial: the handler is "<script>.<function>" in /var/task.
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT")
  curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" -d "$RESPONSE"
done
"""

FUNCTION_SH = """
handler () {
  echo "{\\"received\\": $1, \\"runtime\\": \\"layer bootstrap\\", \\"bootstrap\\": \\"$0\\"}"
}
"""


@pytest.fixture
def deploy(lambda_client: Any) -> Iterator[Callable[..., str]]:
    """Creates a function (deleted after the test) and waits until it is Active."""
    created: list[str] = []

    def create(files: dict[str, str], layer_arns: list[str], **params: Any) -> str:
        name = unique("fn-layered")
        args: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": layer_zip(files, executable=("bootstrap",))},
            "Layers": layer_arns,
            "Timeout": 30,
        }
        args.update(params)
        lambda_client.create_function(**args)
        created.append(name)
        wait_settled(lambda_client, name)
        return name

    yield create
    for name in created:
        lambda_client.delete_function(FunctionName=name)


def invoke(client: Any, name: str, event: Any = None) -> Any:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    body = response["Payload"].read()
    assert "FunctionError" not in response, body
    return json.loads(body)


def test_python_imports_a_library_only_in_a_layer(lambda_client: Any, layers: Publisher, deploy: Any) -> None:
    lib = layers.publish(unique("mylib"), layer_zip({"python/mylib.py": "def greet(who):\n    return 'hi ' + who\n"}))
    site = layers.publish(
        unique("sitelib"),
        layer_zip({"python/lib/python3.12/site-packages/sitelib/__init__.py": "WHERE = 'site-packages'\n"}),
    )
    name = deploy(
        {
            "app.py": """
            import mylib, sitelib
            def handler(event, context):
                return {"greeting": mylib.greet("layer"), "where": sitelib.WHERE, "file": mylib.__file__}
            """
        },
        [lib["LayerVersionArn"], site["LayerVersionArn"]],
    )
    out = invoke(lambda_client, name)
    assert out["greeting"] == "hi layer"
    assert out["where"] == "site-packages"  # the versioned site-packages path is on sys.path too
    assert out["file"].endswith("/python/mylib.py")
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["Layers"] == [
        {"Arn": lib["LayerVersionArn"], "CodeSize": lib["Content"]["CodeSize"]},
        {"Arn": site["LayerVersionArn"], "CodeSize": site["Content"]["CodeSize"]},
    ]


def test_without_the_layer_the_import_fails(lambda_client: Any, deploy: Any) -> None:
    """The control for the test above: the library is really not in the function's own package."""
    name = deploy({"app.py": "import mylib\ndef handler(event, context):\n    return 1\n"}, [])
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ImportModuleError"


def test_custom_runtime_bootstrap_from_a_layer(lambda_client: Any, layers: Publisher, deploy: Any) -> None:
    runtime = layers.publish(
        unique("shell-runtime"),
        layer_zip({"bootstrap": CURL_BOOTSTRAP}, executable=("bootstrap",)),
        CompatibleRuntimes=["provided.al2023"],
    )
    name = deploy(
        {"function.sh": FUNCTION_SH},
        [runtime["LayerVersionArn"]],
        Runtime="provided.al2023",
        Handler="function.handler",
    )
    out = invoke(lambda_client, name, {"x": 1})
    assert out["received"] == {"x": 1}
    assert out["runtime"] == "layer bootstrap"
    assert out["bootstrap"].endswith("/bootstrap") and not out["bootstrap"].startswith("/var/task")


def private_root(lamina: LaminaProcess) -> bool:
    with urllib.request.urlopen(lamina.url + "/health") as response:
        return bool(json.loads(response.read())["isolation"].get("private_root"))


def test_later_layers_override_earlier_ones(
    lambda_client: Any, lamina: LaminaProcess, layers: Publisher, deploy: Any
) -> None:
    def layer(text: str) -> dict[str, Any]:
        files = {"python/shared.py": f"WHO = {text!r}\n", "data/which.txt": text, f"data/only-{text}.txt": text}
        return layers.publish(unique(f"layer-{text}"), layer_zip(files))

    first, second = layer("first"), layer("second")
    app = """
    import os, shared
    def handler(event, context):
        out = {"module": shared.WHO}
        if os.path.isdir("/opt/data"):  # a private root: the layers are merged at /opt
            out["file"] = open("/opt/data/which.txt").read()
            out["listing"] = sorted(os.listdir("/opt/data"))
        return out
    """
    forward = invoke(lambda_client, deploy({"app.py": app}, [first["LayerVersionArn"], second["LayerVersionArn"]]))
    backward = invoke(lambda_client, deploy({"app.py": app}, [second["LayerVersionArn"], first["LayerVersionArn"]]))
    assert forward["module"] == "second"
    assert backward["module"] == "first"
    if private_root(lamina):  # else (fallback isolation) there is no /opt to merge into; paths stand for it
        assert (forward["file"], backward["file"]) == ("second", "first")
        assert forward["listing"] == ["only-first.txt", "only-second.txt", "which.txt"]  # merged, not replaced


def test_opt_bin_on_path_and_opt_lib_on_library_path(lambda_client: Any, layers: Publisher, deploy: Any) -> None:
    tool = layers.publish(
        unique("tools"),
        layer_zip({"bin/layer-tool": "#!/bin/sh\necho tool-from-layer\n"}, executable=("bin/layer-tool",)),
    )
    name = deploy(
        {
            "app.py": """
            import os, shutil, subprocess
            def handler(event, context):
                path = shutil.which("layer-tool")
                return {
                    "path": path,
                    "output": subprocess.run(["layer-tool"], capture_output=True, text=True).stdout.strip(),
                    "ld": os.environ.get("LD_LIBRARY_PATH", ""),
                }
            """
        },
        [tool["LayerVersionArn"]],
    )
    out = invoke(lambda_client, name)
    assert out["output"] == "tool-from-layer"
    assert out["path"].endswith("/bin/layer-tool")
    assert any(p.endswith("/lib") and "task" not in p for p in out["ld"].split(":")), out["ld"]


def test_node_finds_modules_in_a_layer(lambda_client: Any, layers: Publisher, deploy: Any) -> None:
    module = layers.publish(
        unique("node-lib"),
        layer_zip({"nodejs/node_modules/layerlib/index.js": "exports.hello = () => 'node layer';\n"}),
    )
    name = deploy(
        {"index.js": "const lib = require('layerlib');\nexports.handler = async () => ({said: lib.hello()});\n"},
        [module["LayerVersionArn"]],
        Runtime="nodejs20.x",
        Handler="index.handler",
    )
    assert invoke(lambda_client, name) == {"said": "node layer"}


def test_changing_layers_retires_environments(lambda_client: Any, layers: Publisher, deploy: Any) -> None:
    layer_name = unique("versioned")
    v1 = layers.publish(layer_name, layer_zip({"python/versioned.py": "V = 1\n"}))
    v2 = layers.publish(layer_name, layer_zip({"python/versioned.py": "V = 2\n"}))
    name = deploy(
        {"app.py": "import versioned\ndef handler(event, context):\n    return versioned.V\n"}, [v1["LayerVersionArn"]]
    )
    assert invoke(lambda_client, name) == 1  # a warm environment now holds version 1
    lambda_client.update_function_configuration(FunctionName=name, Layers=[v2["LayerVersionArn"]])
    wait_settled(lambda_client, name)
    assert invoke(lambda_client, name) == 2


def test_deleted_layer_version_keeps_working(lambda_client: Any, layers: Publisher, deploy: Any) -> None:
    """AWS keeps a deleted version for the functions that use it; new references to it are refused."""
    lib = layers.publish(unique("doomed"), layer_zip({"python/doomed.py": "ALIVE = True\n"}))
    app = "import doomed\ndef handler(event, context):\n    return doomed.ALIVE\n"
    name = deploy({"app.py": app}, [lib["LayerVersionArn"]])
    layers.client.delete_layer_version(LayerName=lib["LayerArn"], VersionNumber=lib["Version"])
    layers.published.clear()
    # A configuration change builds new environments, which still get the deleted version's files.
    lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": {"CHANGED": "1"}})
    wait_settled(lambda_client, name)
    assert invoke(lambda_client, name) is True
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException, match="does not exist"):
        deploy({"app.py": app}, [lib["LayerVersionArn"]])
