"""Build the Lambda packages and the template that deploy.sh hands to CloudFormation.

    python -m infra.aws.build --out .build/dev --python python3.12 [--architecture arm64]

Each function's ``Metadata.Package`` in template.yaml names its dependency set in
``infra/aws/packages/``; every set is installed once, with wheels for Lambda's runtime and
the architecture the template's ``Architecture`` parameter chooses (never this machine's),
next to a copy of ``functions/`` and ``migrations/``. botocore keeps the models of the AWS
services the functions call, and no others. Nothing leaves here unless every handler imports
from its own package under Python 3.12 and those services' clients can be made there, every
package is under Lambda's size limit, and the template translates and lints cleanly.

Packages for another architecture than this machine's cannot be imported here: their native
extensions are another processor's code. For them the check is what can be checked: every
native library is an ELF for the target processor, every handler's module is in the package,
and the AWS clients (pure Python) can be made; the handlers themselves are not imported.
Each package's measured size is left in ``packages.json`` (see ``infra.aws.sizes``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.aws import sizes as size_table
from infra.aws.checks import (
    UNZIPPED_LIMIT_BYTES,
    CheckError,
    lint,
    translate,
    unzipped_size,
    with_code_at,
)
from infra.template import Template, load_document

REPO = Path(__file__).resolve().parents[2]
PACKAGES = REPO / "infra" / "aws" / "packages"
# Lambda's architectures (the template's Architecture parameter), each with the processor its
# wheels name and the ELF machine number (e_machine) of its native code.
MACHINES = {"x86_64": ("x86_64", 62), "arm64": ("aarch64", 183)}

# The AWS services whose clients the functions create (wiring.Container). botocore carries
# the models of four hundred more, 27 MB in every package that no function ever loads.
AWS_SERVICES = ("s3", "sqs", "lambda", "events")

# Runs under the target interpreter with nothing on its path but one package: each handler
# imports, and each service's client can be made from the models left in the package.
_IMPORT_CHECK = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
failures = {}
for handler in json.loads(sys.argv[2]):
    module, attribute = handler.rsplit(".", 1)
    try:
        if not callable(getattr(importlib.import_module(module), attribute)):
            failures[handler] = "not callable"
    except Exception as exc:
        failures[handler] = f"{type(exc).__name__}: {exc}"
import botocore.session
for service in json.loads(sys.argv[3]):
    try:
        botocore.session.get_session().create_client(
            service, region_name="us-east-1", aws_access_key_id="-", aws_secret_access_key="-")
    except Exception as exc:
        failures[f"a {service} client"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failures))
"""


def wheel_target(architecture: str) -> list[str]:
    """pip's options for wheels of Lambda's runtime: CPython 3.12 on Amazon Linux 2023
    (glibc 2.34), on ``architecture``."""
    machine, _ = MACHINES[architecture]
    return ["--platform", f"manylinux2014_{machine}", "--platform", f"manylinux_2_28_{machine}",
            "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp"]


def default_architecture(template: Template) -> str:
    return str(template.parameters["Architecture"]["Default"])


def this_machine() -> str | None:
    """This machine's architecture in Lambda's words, None for one Lambda does not run on."""
    machine = platform.machine().lower()
    return next((name for name, (wheels, _) in MACHINES.items()
                 if machine in (name, wheels)), None)


def build(out: Path, python: str, architecture: str) -> dict[str, int]:
    """Build into ``out`` for ``architecture``; returns each package's unzipped size in
    bytes."""
    template = Template.load(REPO / "template.yaml")
    if architecture not in MACHINES:
        raise CheckError(f"no such architecture {architecture!r}: {', '.join(MACHINES)}")
    unnamed = sorted(name for name, f in template.functions.items() if not f.package)
    if unnamed:
        raise CheckError(f"functions without Metadata.Package: {', '.join(unnamed)}")
    packages = sorted({function.package for function in template.functions.values()})
    shutil.rmtree(out, ignore_errors=True)
    (out / "packages").mkdir(parents=True)
    constraints = out / "constraints.txt"
    constraints.write_text(_without_extras((REPO / "requirements.txt").read_text()))
    sizes = {}
    for package in packages:
        directory = out / "packages" / package
        install_package(package, directory, constraints, architecture)
        compile_bytecode(python, directory)
        handlers = sorted({f.handler for f in template.functions.values()
                           if f.package == package})
        if architecture == this_machine():
            check_handlers_import(python, directory, handlers)
        else:
            check_foreign_package(python, directory, handlers, architecture)
        sizes[package] = unzipped_size(directory)
        if sizes[package] > UNZIPPED_LIMIT_BYTES:
            raise CheckError(f"package {package} is {sizes[package] / 2**20:.0f} MiB unzipped; "
                             f"Lambda allows {UNZIPPED_LIMIT_BYTES / 2**20:.0f} MiB")
    document = with_code_at(template.document, {
        name: f"packages/{function.package}" for name, function in template.functions.items()
    })
    findings = lint(translate(document))
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            nested = REPO / resource["Properties"]["TemplateURL"]
            findings += [f"{nested.name}: {finding}"
                         for finding in lint(load_document(nested))]
            shutil.copy(nested, out / nested.name)
            resource["Properties"]["TemplateURL"] = nested.name
    if findings:
        raise CheckError("cfn-lint found problems:\n  " + "\n  ".join(findings))
    (out / "template.json").write_text(json.dumps(document, indent=1))
    # What was measured, for the deploy guide's table (python -m infra.aws.sizes).
    functions = {name: function.package for name, function in template.functions.items()}
    (out / size_table.MANIFEST).write_text(json.dumps(
        size_table.manifest(sizes, functions, UNZIPPED_LIMIT_BYTES, architecture=architecture),
        indent=1) + "\n")
    return sizes


def install_package(name: str, directory: Path, constraints: Path, architecture: str) -> None:
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-warn-conflicts", "--root-user-action=ignore", "--target", str(directory),
           *wheel_target(architecture)]
    # chalice's command-line tool pulls in pip, setuptools and more; its app module needs none.
    for requirements in (["-r", str(PACKAGES / f"{name}.txt"), "-c", str(constraints)],
                         ["--no-deps", _pin_of("chalice")]):
        subprocess.run([*pip, *requirements], check=True)
        shutil.rmtree(directory / "bin", ignore_errors=True)  # console scripts: no use here
    for service in (directory / "botocore" / "data").iterdir():
        if service.is_dir() and service.name not in AWS_SERVICES:
            shutil.rmtree(service)
    drop_test_suites(directory)
    # Powertools' HTTP router (3 MB): Lightbox routes with Chalice and takes only Powertools'
    # logger and metrics, which never import it. The handlers' import check proves that.
    shutil.rmtree(directory / "aws_lambda_powertools" / "event_handler", ignore_errors=True)
    shutil.copytree(REPO / "functions", directory, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "migrations", directory / "migrations")


def drop_test_suites(directory: Path) -> None:
    """Remove the libraries' own test suites (numpy's alone is 16 MB): no function runs them,
    and without them the imaging package built for arm64, whose native libraries are larger,
    stays under Lambda's size limit."""
    for root, subdirectories, _ in os.walk(directory):
        for name in [name for name in subdirectories if name == "tests"]:
            shutil.rmtree(Path(root) / name)
            subdirectories.remove(name)


def compile_bytecode(python: str, directory: Path) -> None:
    """Ship bytecode: Lambda's file system is read-only, so without it every cold start
    compiles every module it imports. Unchecked hashes: zip timestamps change nothing."""
    subprocess.run([python, "-I", "-m", "compileall", "-q", "-j", "0",
                    "--invalidation-mode", "unchecked-hash", str(directory)],
                   check=True, stdout=subprocess.DEVNULL)


def check_handlers_import(python: str, directory: Path, handlers: Sequence[str]) -> None:
    _report(directory, _run_import_check(python, directory, handlers))


def check_foreign_package(python: str, directory: Path, handlers: Sequence[str],
                          architecture: str) -> None:
    """What can be checked of a package for another processor than this one: the AWS clients
    (pure Python) can be made, each handler's module is there, and no native library is
    another processor's code (a wheel of the wrong platform)."""
    failures = _run_import_check(python, directory, [])
    for handler in handlers:
        module = handler.rsplit(".", 1)[0].replace(".", "/")
        if not ((directory / f"{module}.py").is_file()
                or (directory / module / "__init__.py").is_file()):
            failures[handler] = "no such module in the package"
    for path, machine in foreign_libraries(directory, architecture):
        failures[str(path.relative_to(directory))] = f"native code for ELF machine {machine}"
    _report(directory, failures)


def foreign_libraries(directory: Path, architecture: str) -> list[tuple[Path, int]]:
    """Every ELF file under ``directory`` built for another processor than ``architecture``'s,
    with the machine number it names."""
    _, expected = MACHINES[architecture]
    found = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = Path(root) / name
            with path.open("rb") as file:
                header = file.read(20)
            if header[:4] == b"\x7fELF" and len(header) == 20:
                # e_machine: two bytes at offset 18, in the byte order EI_DATA names.
                machine = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
                if machine != expected:
                    found.append((path, machine))
    return found


def _run_import_check(python: str, directory: Path, handlers: Sequence[str]) -> dict[str, str]:
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", _IMPORT_CHECK, str(directory), json.dumps(list(handlers)),
         json.dumps(AWS_SERVICES)],
        capture_output=True, text=True, check=False, env={"AWS_DEFAULT_REGION": "us-east-1"},
    )
    if result.returncode != 0:
        raise CheckError(f"{python} could not check {directory.name}: {result.stderr.strip()}")
    failures: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return failures


def _report(directory: Path, failures: dict[str, str]) -> None:
    """Refuse the package, naming each handler (or library) that would fail on Lambda."""
    if failures:
        lines = "\n  ".join(f"{what}: {why}" for what, why in failures.items())
        raise CheckError(f"package {directory.name} would fail on Lambda:\n  {lines}")


def _pin_of(name: str) -> str:
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if re.match(rf"^{re.escape(name)}(\[.*\])?==", line.strip()):
            return line.strip()
    raise CheckError(f"requirements.txt does not pin {name}")


def _without_extras(requirements: str) -> str:
    # pip refuses extras in a constraints file: psycopg[binary]==x constrains psycopg==x.
    return re.sub(r"^([A-Za-z0-9_.-]+)\[[^\]]*\]", r"\1", requirements, flags=re.M)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="build directory")
    parser.add_argument("--python", required=True,
                        help="a Python 3.12 interpreter, to import the handlers as Lambda will")
    parser.add_argument("--architecture", choices=sorted(MACHINES),
                        help="the functions' processor, the template's Architecture parameter "
                        "(default: its default)")
    options = parser.parse_args(argv)
    architecture = options.architecture or default_architecture(
        Template.load(REPO / "template.yaml"))
    try:
        sizes = build(options.out, options.python, architecture)
    except (CheckError, subprocess.CalledProcessError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    for package, size in sizes.items():
        print(f"==> package {package} ({architecture}): {size / 2**20:.0f} MiB unzipped "
              f"(Lambda allows {UNZIPPED_LIMIT_BYTES / 2**20:.0f})")
    if architecture == this_machine():
        print("==> every handler imports from its package; template translated and linted: "
              f"{options.out / 'template.json'}")
    else:
        print(f"==> {architecture} packages on a {platform.machine()} machine: the handlers were "
              f"not imported (their native code cannot run here); every native library is "
              f"{architecture}'s, every handler's module is there, the AWS clients can be made; "
              f"template translated and linted: {options.out / 'template.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
