"""The deployment declares what the code declares: Cosmos containers, queues, blob containers, regions.

Containers, partition keys and indexed paths are declared once in `shared/store_schema.py`
(docs/architecture.md "Data"); `infra/modules/cosmos.bicep` repeats them as a plain literal because Bicep cannot
import Python. These tests read the Bicep literals with a small parser and fail on any drift, so a
container added to the code and not to the infrastructure (or the reverse) never reaches a deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.config import EU_REGIONS, Settings
from shared.ports.blobs import BLOB_CONTAINERS, CONTAINER_EXPORTS
from shared.ports.bus import QUEUES
from shared.store_schema import CONTAINERS, DATABASE_NAME, ContainerSpec

INFRA = Path(__file__).resolve().parents[2] / "infra"
COSMOS_BICEP = INFRA / "modules" / "cosmos.bicep"
COSMOS_CONTAINER_BICEP = INFRA / "modules" / "cosmos-container.bicep"
SERVICEBUS_BICEP = INFRA / "modules" / "servicebus.bicep"
STORAGE_BICEP = INFRA / "modules" / "storage.bicep"
MAIN_BICEP = INFRA / "main.bicep"


# --- a parser for Bicep literals (strings, numbers, booleans, null, arrays, objects) -----------------


class BicepLiteralError(ValueError):
    """The text is not a plain Bicep literal (an expression, an interpolation, a syntax error)."""


_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*)
  | (?P<newline>\n)
  | (?P<space>[ \t\r]+)
  | (?P<string>'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?\d+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[\[\]{}:,])
    """,
    re.VERBOSE,
)
_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def _unquote(token: str) -> str:
    body = token[1:-1]
    if "${" in body.replace("\\${", ""):
        raise BicepLiteralError(f"interpolated string, not a literal: {token}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


class _Parser:
    """Reads tokens on demand, so a literal can be parsed out of a file full of other Bicep."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.next: tuple[str, str] | None = None

    def peek(self) -> tuple[str, str]:
        while self.next is None:
            if self.offset >= len(self.text):
                self.next = ("end", "")
                break
            match = _TOKEN.match(self.text, self.offset)
            if match is None:
                raise BicepLiteralError(f"not a literal at: {self.text[self.offset : self.offset + 30]!r}")
            self.offset = match.end()
            kind = match.lastgroup
            if kind in ("newline", "punct"):
                self.next = (match.group(), match.group())
            elif kind not in ("comment", "space"):
                self.next = (str(kind), match.group())
        return self.next

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.next = None
        return token

    def skip_separators(self) -> None:
        while self.peek()[0] in ("\n", ","):
            self.take()

    def value(self) -> Any:
        while self.peek()[0] == "\n":
            self.take()
        kind, text = self.take()
        if kind == "[":
            return self.array()
        if kind == "{":
            return self.object()
        if kind == "string":
            return _unquote(text)
        if kind == "number":
            return int(text)
        if kind == "word" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        raise BicepLiteralError(f"expected a literal value, found {text!r}")

    def array(self) -> list[Any]:
        items: list[Any] = []
        while True:
            self.skip_separators()
            if self.peek()[0] == "]":
                self.take()
                return items
            items.append(self.value())
            if self.peek()[0] not in ("\n", ",", "]"):
                raise BicepLiteralError(f"expected a new line or ']' after an array item, found {self.peek()[1]!r}")

    def object(self) -> dict[str, Any]:
        members: dict[str, Any] = {}
        while True:
            self.skip_separators()
            kind, text = self.take()
            if kind == "}":
                return members
            if kind not in ("word", "string"):
                raise BicepLiteralError(f"expected a property name, found {text!r}")
            key = _unquote(text) if kind == "string" else text
            if self.take()[0] != ":":
                raise BicepLiteralError(f"expected ':' after {key!r}")
            if key in members:
                raise BicepLiteralError(f"duplicate property {key!r}")
            members[key] = self.value()
            if self.peek()[0] not in ("\n", ",", "}"):
                raise BicepLiteralError(f"expected a new line or '}}' after {key!r}, found {self.peek()[1]!r}")


def parse_literal(text: str) -> Any:
    """The value of one Bicep literal; the whole text must be that literal."""
    parser = _Parser(text)
    value = parser.value()
    parser.skip_separators()
    if parser.peek()[0] != "end":
        raise BicepLiteralError(f"unexpected text after the literal: {parser.peek()[1]!r}")
    return value


def bicep_var(source: str, name: str) -> Any:
    """The literal value of `var <name> = ...` in a Bicep file's text."""
    found = re.search(rf"^var {re.escape(name)} = ", source, re.MULTILINE)
    if found is None:
        raise BicepLiteralError(f"no `var {name}` in the file")
    parser = _Parser(source[found.end() :])
    return parser.value()


# --- the comparisons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredContainer:
    """What both sides say about one container."""

    partition_key_path: str
    indexed_paths: tuple[str, ...]
    ttl_enabled: bool
    text_paths: tuple[str, ...] = ()
    array_paths: tuple[str, ...] = ()


def containers_in_bicep(source: str) -> dict[str, DeclaredContainer]:
    """The `containers` literal of cosmos.bicep, by name; refuses a container listed twice."""
    entries = bicep_var(source, "containers")
    declared: dict[str, DeclaredContainer] = {}
    for entry in entries:
        if set(entry) != {"name", "partitionKeyPath", "indexedPaths", "textPaths", "arrayPaths", "ttlEnabled"}:
            raise BicepLiteralError(f"unexpected container properties: {sorted(entry)}")
        if entry["name"] in declared:
            raise BicepLiteralError(f"container {entry['name']!r} listed twice")
        declared[entry["name"]] = DeclaredContainer(
            entry["partitionKeyPath"], tuple(entry["indexedPaths"]), entry["ttlEnabled"],
            tuple(entry["textPaths"]), tuple(entry["arrayPaths"]),
        )
    return declared


def containers_in_code(specs: dict[str, ContainerSpec]) -> dict[str, DeclaredContainer]:
    """shared/store_schema.py's declaration in the same shape."""
    return {
        name: DeclaredContainer(spec.partition_key_path, tuple(spec.indexed_paths), spec.ttl_enabled,
                                spec.text_paths, spec.array_paths)
        for name, spec in specs.items()
    }


def container_drift(bicep: dict[str, DeclaredContainer], code: dict[str, DeclaredContainer]) -> list[str]:
    """Every difference between the two declarations, as readable lines (empty when they agree)."""
    drift = [f"{name}: declared in code, missing from cosmos.bicep" for name in sorted(code.keys() - bicep.keys())]
    drift += [f"{name}: in cosmos.bicep, not declared in code" for name in sorted(bicep.keys() - code.keys())]
    for name in sorted(code.keys() & bicep.keys()):
        if code[name] != bicep[name]:
            drift.append(f"{name}: code {code[name]} != bicep {bicep[name]}")
    return drift


def bicep_indexing_policy(container: DeclaredContainer) -> dict[str, set[Any]]:
    """The indexing policy cosmos-container.bicep builds from one entry of the `containers` literal.

    Bicep expressions cannot be evaluated here, so this mirrors them; the module's text is checked
    for the same building blocks in test_container_module_builds_the_mirrored_policy.
    """
    fields = ["/" + path.replace(".", "/") for path in container.indexed_paths]
    texts = {"/" + path.replace(".", "/") + "/?" for path in container.text_paths}
    arrays = {"/" + path.replace(".", "/") + "/[]/?" for path in container.array_paths}
    return {
        "included": {"/id/?", "/brandId/?", container.partition_key_path + "/?"} | {f + "/?" for f in fields}
        | texts | arrays,
        "excluded": {"/*"},
        "composite": {((f, order), ("/id", order)) for f in fields for order in ("ascending", "descending")},
    }


def normalised_policy(policy: dict[str, Any]) -> dict[str, set[Any]]:
    """An indexing policy as the Cosmos adapter writes it, as sets (order carries no meaning)."""
    return {
        "included": {entry["path"] for entry in policy["includedPaths"]},
        "excluded": {entry["path"] for entry in policy["excludedPaths"]},
        "composite": {
            tuple((entry["path"], entry["order"]) for entry in composite)
            for composite in policy.get("compositeIndexes", [])
        },
    }


def _region_id(display_name: str) -> str:
    return display_name.replace(" ", "").lower()


# --- the infrastructure matches the code -------------------------------------------------------------


def test_cosmos_database_name_matches_code() -> None:
    assert bicep_var(COSMOS_BICEP.read_text(), "databaseName") == DATABASE_NAME


def test_cosmos_containers_match_code() -> None:
    bicep = containers_in_bicep(COSMOS_BICEP.read_text())
    assert container_drift(bicep, containers_in_code(CONTAINERS)) == []


def test_cosmos_index_policies_match_the_adapter() -> None:
    from shared.adapters.cosmos_store import indexing_policy

    bicep = containers_in_bicep(COSMOS_BICEP.read_text())
    for name, spec in CONTAINERS.items():
        assert bicep_indexing_policy(bicep[name]) == normalised_policy(indexing_policy(spec)), name


def test_nested_fields_are_indexed_as_nested_paths() -> None:
    members = bicep_indexing_policy(containers_in_bicep(COSMOS_BICEP.read_text())["members"])
    assert "/retention/dueAt/?" in members["included"]
    assert (("/retention/dueAt", "descending"), ("/id", "descending")) in members["composite"]


def test_container_module_builds_the_mirrored_policy() -> None:
    module = COSMOS_CONTAINER_BICEP.read_text()
    for piece in (
        "path: '/id/?'",
        "path: '/brandId/?'",
        "path: '${partitionKeyPath}/?'",
        "path: '/${replace(fieldPath, '.', '/')}/?'",
        "path: '/${replace(fieldPath, '.', '/')}'",
        "order: 'ascending'",
        "order: 'descending'",
        "path: '/*'",
        "path: '/${replace(fieldPath, '.', '/')}/[]/?'",
        "includedPaths: union(alwaysIncluded, declaredPaths, textIncluded, arrayIncluded)",
        "compositeIndexes: concat(compositeAscending, compositeDescending)",
        "ttlEnabled ? { defaultTtl: -1 } : {}",
    ):
        assert piece in module, piece


def test_cosmos_regions_are_eu_only_west_then_north_europe() -> None:
    locations = bicep_var(COSMOS_BICEP.read_text(), "locations")
    assert all(location["locationName"] in EU_REGIONS for location in locations)
    priorities = {location["locationName"]: location["failoverPriority"] for location in locations}
    assert priorities["West Europe"] == 0
    assert priorities["North Europe"] == 1
    assert sorted(priorities.values()) == list(range(len(locations)))


def test_cosmos_regions_match_the_app_default() -> None:
    locations = sorted(bicep_var(COSMOS_BICEP.read_text(), "locations"), key=lambda loc: loc["failoverPriority"])
    assert [location["locationName"] for location in locations] == Settings().cosmos_regions


def test_deployment_location_is_an_eu_region() -> None:
    source = MAIN_BICEP.read_text()
    allowed = re.search(r"@allowed\((\[.*?\])\)\s*param location string = '([a-z]+)'", source, re.DOTALL)
    assert allowed is not None, "main.bicep: `param location` must carry an @allowed list and a default"
    eu_ids = {_region_id(region) for region in EU_REGIONS}
    assert set(parse_literal(allowed.group(1))) <= eu_ids
    assert allowed.group(2) == "westeurope"


def test_service_bus_queues_match_code() -> None:
    queues = bicep_var(SERVICEBUS_BICEP.read_text(), "queues")
    assert len(queues) == len(set(queues))
    assert set(queues) == set(QUEUES)


def test_blob_containers_include_code() -> None:
    source = STORAGE_BICEP.read_text()
    assert set(bicep_var(source, "appContainers")) >= set(BLOB_CONTAINERS)
    # Personal-data exports expire: the lifecycle rule must target the exports container.
    assert f"'{CONTAINER_EXPORTS}/'" in source


def test_app_settings_are_settings_the_app_reads() -> None:
    source = MAIN_BICEP.read_text()
    settings = dict(re.findall(r"^\s+POPSELL_([A-Z_]+): (.+)$", source, re.MULTILINE))
    unknown = {name for name in settings if name.lower() not in Settings.model_fields}
    assert unknown == set()
    required = {
        "ENV",
        "STORE",
        "BUS",
        "BLOBS",
        "MAILER",
        "COSMOS_ENDPOINT",
        "SERVICEBUS_NAMESPACE",
        "BLOB_ACCOUNT_URL",
        "HASH_MASTER_KEY",
        "TOKEN_SIGNING_KEYS",
        "MAILJET_API_KEY",
        "MAILJET_API_SECRET",
        "DEV_ENDPOINTS",
        "PUBLIC_BASE_URL",
        "PRIVACY_POLICY_URL",
    }
    assert required <= settings.keys()
    for secret in ("HASH_MASTER_KEY", "TOKEN_SIGNING_KEYS", "MAILJET_API_KEY", "MAILJET_API_SECRET"):
        assert settings[secret].startswith("'@Microsoft.KeyVault("), f"{secret} must be a Key Vault reference"


# --- the checks catch drift --------------------------------------------------------------------------


def test_a_container_added_to_the_code_only_is_reported() -> None:
    bicep = containers_in_bicep(COSMOS_BICEP.read_text())
    code = dict(CONTAINERS, referrals=ContainerSpec("referrals", "brandId", ("memberId",)))
    assert container_drift(bicep, containers_in_code(code)) == [
        "referrals: declared in code, missing from cosmos.bicep"
    ]


def test_a_container_changed_in_bicep_only_is_reported() -> None:
    source = COSMOS_BICEP.read_text().replace(
        "name: 'tracking_events'\n    partitionKeyPath: '/pk'",
        "name: 'tracking_events'\n    partitionKeyPath: '/brandId'",
    )
    drift = container_drift(containers_in_bicep(source), containers_in_code(CONTAINERS))
    assert len(drift) == 1 and drift[0].startswith("tracking_events: ")


def test_a_container_listed_twice_in_bicep_is_refused() -> None:
    entry = "{ name: 'a', partitionKeyPath: '/pk', indexedPaths: [], textPaths: [], arrayPaths: [], ttlEnabled: false }"
    source = f"var containers = [\n  {entry}\n  {entry}\n]\n"
    with pytest.raises(BicepLiteralError, match="twice"):
        containers_in_bicep(source)


def test_parser_reads_nested_literals_and_skips_comments() -> None:
    text = """{
      // a comment
      name: 'it''s'
      list: [
        'a' // trailing comment
        2
        true
      ]
      nested: { x: null, 'quoted-key': -1 }
    }"""
    assert parse_literal(text.replace("'it''s'", "'it\\'s'")) == {
        "name": "it's",
        "list": ["a", 2, True],
        "nested": {"x": None, "quoted-key": -1},
    }


@pytest.mark.parametrize("text", ["'${name}'", "[\n  concat('a')\n]", "{ a: 1 b: 2 }", "[ 'a' 'b' ]"])
def test_parser_refuses_what_is_not_a_plain_literal(text: str) -> None:
    with pytest.raises(BicepLiteralError):
        parse_literal(text)
