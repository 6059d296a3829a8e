"""The docker compose deployment, checked statically (CI has no container engine).

docker-compose.yml must describe Redis, PostgreSQL, a one-shot migrate job and two daphne web
processes behind nginx, and deploy/nginx.conf must balance HTTP and WebSockets over both.
Values are read the way compose would with an empty environment: ``${VAR:-default}`` gives the
default.
"""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
WEB_SERVICES = ("web1", "web2")
WEB_PORT = 8000

# Top-level keys of the compose specification (plus x-* extensions).
TOP_LEVEL_KEYS = {
    "version",
    "name",
    "include",
    "services",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "models",
}

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any) -> Any:
    """Compose's variable interpolation with no variables set: defaults apply, ``$$`` is ``$``."""
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["plain"]:
            return ""
        op, arg = match["op"] or "", match["arg"]
        if op in (":-", "-"):
            return interpolate(arg)
        if op in (":?", "?"):
            pytest.fail(f"docker-compose.yml requires ${{{match['braced']}}} to be set: {arg}")
        return ""  # ${VAR}, ${VAR:+alt}, ${VAR+alt} with VAR unset

    return _VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), "docker-compose.yml is missing"
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


@pytest.fixture(scope="module")
def compose(raw_compose: dict[str, Any]) -> dict[str, Any]:
    return interpolate(raw_compose)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose.get("services")
    assert isinstance(services, dict) and services, "no services in docker-compose.yml"
    for name, service in services.items():
        assert isinstance(service, dict), f"service {name} is not a mapping"
    return services


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(word) for word in command]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """depends_on in its long form (the short list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return {name: (spec or {"condition": "service_started"}) for name, spec in deps.items()}


def volume_mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) for each volume of a service, short or long syntax."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        else:
            source, target = volume.get("source", ""), volume["target"]
            read_only = bool(volume.get("read_only"))
        mounts.append((source, target, read_only))
    return mounts


def nginx_config_path(services: dict[str, dict[str, Any]]) -> Path:
    for source, target, _ in volume_mounts(services["nginx"]):
        if target.startswith("/etc/nginx/") and source.endswith(".conf"):
            return (ROOT / source).resolve()
    pytest.fail("nginx mounts no configuration file from the repository into /etc/nginx/")


def strip_comments(config: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in config.splitlines())


def nginx_block(config: str, header: str) -> str:
    """The body of the first ``header { ... }`` block (``header`` is a regular expression)."""
    match = re.search(header + r"\s*\{", config)
    assert match, f"nginx.conf has no block matching {header!r}"
    depth, start = 1, match.end()
    for index in range(start, len(config)):
        if config[index] == "{":
            depth += 1
        elif config[index] == "}":
            depth -= 1
            if depth == 0:
                return config[start:index]
    pytest.fail(f"unbalanced braces after {header!r} in nginx.conf")


def directives(block: str, name: str) -> list[list[str]]:
    """Arguments of every ``name ...;`` directive in a block (nested blocks included)."""
    return [
        shlex.split(match[1])
        for match in re.finditer(rf"(?:^|[;{{}}\s]){name}\s+([^;{{}}]*);", block)
    ]


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, f"not an nginx time: {value!r}"
    return int(match[1]) * units[match[2] or "s"]


# --- the compose document ------------------------------------------------------------------------


def test_top_level_keys_are_compose_keys(raw_compose: dict[str, Any]) -> None:
    unknown = {key for key in raw_compose if key not in TOP_LEVEL_KEYS and not key.startswith("x-")}
    assert not unknown, f"not compose top-level keys: {sorted(unknown)}"


def test_expected_services_are_present(services: dict[str, dict[str, Any]]) -> None:
    missing = {"redis", "postgres", "migrate", *WEB_SERVICES, "nginx"} - services.keys()
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("image") or service.get("build"), f"{name} has neither image nor build"


def test_images_of_the_backing_services(services: dict[str, dict[str, Any]]) -> None:
    assert services["redis"]["image"].startswith("redis:7")
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["nginx"]["image"].startswith("nginx:1.27")


def test_hallserver_services_build_from_the_dockerfile(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("migrate", *WEB_SERVICES):
        build = services[name].get("build")
        assert build, f"{name} is not built from the repository"
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve()
    assert DOCKERFILE.is_file()


def test_every_depends_on_target_exists(services: dict[str, dict[str, Any]]) -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for target, spec in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert target != name, f"{name} depends on itself"
            assert spec.get("condition", "service_started") in conditions


def test_healthy_conditions_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for target, spec in depends_on(service).items():
            if spec.get("condition") == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck"
                )


def test_only_nginx_publishes_ports(services: dict[str, dict[str, Any]]) -> None:
    published = sorted(name for name, service in services.items() if service.get("ports"))
    assert published == ["nginx"]
    ports = [str(port) for port in services["nginx"]["ports"]]
    assert "8080:80" in ports


def test_named_volumes_are_declared(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for source, _, _ in volume_mounts(service):
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_postgres_keeps_its_data_in_a_volume(services: dict[str, dict[str, Any]]) -> None:
    targets = {target for _, target, _ in volume_mounts(services["postgres"])}
    assert "/var/lib/postgresql/data" in targets
    env = environment(services["postgres"])
    assert env.get("POSTGRES_PASSWORD"), "postgres needs POSTGRES_PASSWORD"


# --- migrate and web ---------------------------------------------------------------------------


def test_migrate_job_migrates_and_collects_static(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    script = " ".join(command_words(migrate))
    assert "manage migrate" in script
    assert "manage collectstatic --noinput" in script
    assert str(migrate.get("restart", "no")) == "no", "a one-shot job must not be restarted"
    assert depends_on(migrate)["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", WEB_SERVICES)
def test_web_runs_hallserver_serve(services: dict[str, dict[str, Any]], name: str) -> None:
    words = command_words(services[name])
    assert words[:2] == ["hallserver", "serve"], f"{name} command: {words}"
    assert words[words.index("--host") + 1] == "0.0.0.0"
    assert int(words[words.index("--port") + 1]) == WEB_PORT


@pytest.mark.parametrize("name", WEB_SERVICES)
def test_web_environment(services: dict[str, dict[str, Any]], name: str) -> None:
    env = environment(services[name])

    redis_url = urlsplit(env.get("REDIS_URL", ""))
    assert redis_url.scheme == "redis" and redis_url.hostname == "redis", env.get("REDIS_URL")
    assert (redis_url.port or 6379) == 6379

    database_url = urlsplit(env.get("DATABASE_URL", ""))
    assert database_url.scheme in ("postgres", "postgresql", "pgsql"), env.get("DATABASE_URL")
    assert database_url.hostname == "postgres"
    postgres_env = environment(services["postgres"])
    assert database_url.username == postgres_env.get("POSTGRES_USER", "postgres")
    assert database_url.password == postgres_env.get("POSTGRES_PASSWORD")
    assert database_url.path.lstrip("/") == postgres_env.get("POSTGRES_DB", database_url.username)

    assert env.get("HALLSERVER_SERVE_STATIC", "").lower() == "false"
    assert env.get("HALLSERVER_ALLOWED_HOSTS")
    assert env.get("HALLSERVER_SECRET_KEY"), "HALLSERVER_SECRET_KEY needs a value or placeholder"


def test_web_services_share_one_configuration(services: dict[str, dict[str, Any]]) -> None:
    first, second = (services[name] for name in WEB_SERVICES)
    assert environment(first) == environment(second)
    assert command_words(first) == command_words(second)


@pytest.mark.parametrize("name", WEB_SERVICES)
def test_web_waits_for_migrate_redis_and_postgres(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    deps = depends_on(services[name])
    assert deps.get("migrate", {}).get("condition") == "service_completed_successfully"
    assert deps.get("redis", {}).get("condition") == "service_healthy"
    assert deps.get("postgres", {}).get("condition") == "service_healthy"


def test_nginx_starts_after_both_web_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(WEB_SERVICES) <= depends_on(services["nginx"]).keys()


def test_static_volume_is_filled_by_migrate_and_read_only_in_nginx(
    services: dict[str, dict[str, Any]],
) -> None:
    static_root = environment(services["migrate"]).get("HALLSERVER_STATIC_ROOT")
    assert static_root, "migrate must set HALLSERVER_STATIC_ROOT for collectstatic"
    migrate_mounts = {
        target: (source, ro) for source, target, ro in volume_mounts(services["migrate"])
    }
    assert static_root in migrate_mounts, "collectstatic must write into a mounted volume"
    volume, read_only = migrate_mounts[static_root]
    assert not read_only

    nginx_mounts = [
        (target, ro) for source, target, ro in volume_mounts(services["nginx"]) if source == volume
    ]
    assert nginx_mounts, f"nginx does not mount the static volume {volume}"
    nginx_target, nginx_read_only = nginx_mounts[0]
    assert nginx_read_only, "nginx should mount the static files read-only"

    config = strip_comments(nginx_config_path(services).read_text(encoding="utf-8"))
    static_location = nginx_block(config, r"location\s+/static/")
    (alias,) = directives(static_location, "alias") or directives(static_location, "root")
    assert alias[0].rstrip("/").startswith(nginx_target.rstrip("/"))


def test_media_volume_is_shared_by_the_worker_the_web_processes_and_nginx(
    services: dict[str, dict[str, Any]],
) -> None:
    """The media worker writes recordings and HLS segments that the web processes serve
    (and nginx serves /hls/ straight from disk): all must see the same directory."""
    media_dir = environment(services["media1"]).get("HALLSERVER_MEDIA_DIR")
    assert media_dir, "the media worker must set HALLSERVER_MEDIA_DIR"
    volumes = set()
    for name in ("media1", *WEB_SERVICES):
        assert environment(services[name]).get("HALLSERVER_MEDIA_DIR") == media_dir, name
        mounts = {target: (source, ro) for source, target, ro in volume_mounts(services[name])}
        assert media_dir in mounts, f"{name} does not mount a volume at {media_dir}"
        volume, read_only = mounts[media_dir]
        assert not read_only, f"{name} must be able to write {media_dir}"
        volumes.add(volume)
    assert len(volumes) == 1, f"the worker and web processes mount different volumes: {volumes}"
    (volume,) = volumes
    nginx_mounts = [(t, ro) for source, t, ro in volume_mounts(services["nginx"])
                    if source == volume]
    assert nginx_mounts and nginx_mounts[0][1], "nginx should mount the media volume read-only"
    config = strip_comments(nginx_config_path(services).read_text(encoding="utf-8"))
    hls_location = nginx_block(config, r"location\s+/hls/")
    (alias,) = directives(hls_location, "alias")
    assert alias[0].rstrip("/") == f"{nginx_mounts[0][0].rstrip('/')}/hls"


# --- nginx ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx_config(services: dict[str, dict[str, Any]]) -> str:
    path = nginx_config_path(services)
    assert path.is_file(), f"{path} is missing"
    config = strip_comments(path.read_text(encoding="utf-8"))
    assert config.count("{") == config.count("}"), "unbalanced braces in nginx.conf"
    return config


def upstream_name(location: str) -> str:
    (proxy_pass,) = directives(location, "proxy_pass")
    url = urlsplit(proxy_pass[0])
    assert url.scheme == "http", f"proxy_pass {proxy_pass[0]}"
    return url.hostname or ""


def test_nginx_upstream_lists_both_web_services(nginx_config: str) -> None:
    location = nginx_block(nginx_config, r"location\s+/\s")
    name = upstream_name(location)
    upstream = nginx_block(nginx_config, rf"upstream\s+{re.escape(name)}")
    servers = {args[0] for args in directives(upstream, "server")}
    assert servers == {f"{web}:{WEB_PORT}" for web in WEB_SERVICES}


def test_nginx_proxies_websockets_on_ws(nginx_config: str) -> None:
    location = nginx_block(nginx_config, r"location\s+/ws/")
    upstream = nginx_block(nginx_config, rf"upstream\s+{re.escape(upstream_name(location))}")
    assert {args[0] for args in directives(upstream, "server")} == {
        f"{web}:{WEB_PORT}" for web in WEB_SERVICES
    }
    assert ["1.1"] in directives(location, "proxy_http_version")

    headers = {args[0].lower(): args[1] for args in directives(location, "proxy_set_header")}
    assert headers.get("upgrade") == "$http_upgrade"
    connection = headers.get("connection", "")
    if connection.startswith("$"):
        # A map from $http_upgrade, e.g. `map $http_upgrade $connection_upgrade {...}`.
        mapping = nginx_block(nginx_config, rf"map\s+\$http_upgrade\s+{re.escape(connection)}")
        assert re.search(r"\bdefault\s+upgrade\s*;", mapping), mapping
    else:
        assert connection.lower() == "upgrade"
    for header in ("host", "x-forwarded-for", "x-forwarded-proto"):
        assert header in headers, f"/ws/ does not pass {header}"

    (read_timeout,) = directives(location, "proxy_read_timeout")
    assert seconds(read_timeout[0]) >= 3600, "idle WebSockets need a long proxy_read_timeout"


def test_nginx_passes_proxy_headers_for_http(nginx_config: str) -> None:
    location = nginx_block(nginx_config, r"location\s+/\s")
    headers = {args[0].lower() for args in directives(location, "proxy_set_header")}
    assert {"host", "x-forwarded-for", "x-forwarded-proto"} <= headers


def test_nginx_listens_on_the_published_port(
    nginx_config: str, services: dict[str, dict[str, Any]]
) -> None:
    listens = [args[0] for args in directives(nginx_config, "listen")]
    container_ports = {str(port).rsplit(":", 1)[-1] for port in services["nginx"]["ports"]}
    assert container_ports <= {listen.rsplit(":", 1)[-1] for listen in listens}


# --- image ----------------------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_python_311_image() -> None:
    instructions = [
        line.strip()
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    froms = [line.split()[1] for line in instructions if line.upper().startswith("FROM ")]
    assert froms and froms[-1] == "python:3.11-slim"
    assert any(line.upper().startswith("RUN ") and "pip install" in line for line in instructions)
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"


# --- the compose JSON schema, when a package ships it ------------------------------------------


def _compose_schema() -> dict[str, Any]:
    # check-jsonschema (a test dependency) vendors the compose-spec schema; nothing is
    # downloaded here.
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))


def test_validates_against_the_compose_schema(compose: dict[str, Any]) -> None:
    schema = _compose_schema()
    import jsonschema

    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(
        validator_class(schema).iter_errors(compose), key=lambda error: list(error.path)
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.path)) or '<root>'}: {error.message}" for error in errors
    )


# --- live video: coturn and the media worker ----------------------------------------------------


def test_coturn_uses_the_shared_secret_of_the_web_services(
    services: dict[str, dict[str, Any]],
) -> None:
    coturn = services["coturn"]
    assert coturn["image"].startswith("coturn/coturn:")
    args = command_words(coturn)
    assert "--use-auth-secret" in args
    secret = next(a.split("=", 1)[1] for a in args if a.startswith("--static-auth-secret="))
    for name in (*WEB_SERVICES, "media1"):
        env = environment(services[name])
        assert env.get("HALLSERVER_TURN_SECRET") == secret, name
        urls = env.get("HALLSERVER_TURN_URLS", "").split(",")
        assert urls and all(u.startswith("turn:") and ":3478" in u for u in urls), urls
    # TURN needs its ports as they are: host networking rather than published ports.
    assert coturn.get("network_mode") == "host" and not coturn.get("ports")


def test_media_worker_runs_hallserver_media_worker(services: dict[str, dict[str, Any]]) -> None:
    worker = services["media1"]
    assert command_words(worker)[:2] == ["hallserver", "media-worker"]
    env = environment(worker)
    assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    assert env.get("HALLSERVER_MEDIA_WORKER_MODE") == "external"
    assert environment(services["web1"]).get("HALLSERVER_MEDIA_WORKER_MODE") == "external"
    assert depends_on(worker)["redis"]["condition"] == "service_healthy"


# --- health checks and the client address ---------------------------------------------------------


@pytest.mark.parametrize("name", WEB_SERVICES)
def test_web_health_check_probes_readyz(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name]["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert f"http://127.0.0.1:{WEB_PORT}/readyz" in test
    # Longer than HALLSERVER_READY_TIMEOUT (2 s by default), so /readyz can name what failed.
    assert seconds(check["timeout"]) > 2


def test_nginx_waits_for_healthy_web_services(services: dict[str, dict[str, Any]]) -> None:
    deps = depends_on(services["nginx"])
    for web in WEB_SERVICES:
        assert deps[web]["condition"] == "service_healthy"


@pytest.mark.parametrize("location", [r"location\s+/\s", r"location\s+/ws/"])
def test_nginx_sets_the_forwarded_address_rather_than_appending(
    nginx_config: str, location: str
) -> None:
    # One entry, the peer nginx saw: with $proxy_add_x_forwarded_for a header sent by the
    # client would ride in front of it (hallserver.forwarded reads from the right, so that
    # would still be safe, but the log lines would carry the client's words).
    block = nginx_block(nginx_config, location)
    headers = {args[0].lower(): args[1] for args in directives(block, "proxy_set_header")}
    assert headers["x-forwarded-for"] == "$remote_addr"
    assert headers["x-forwarded-proto"] == "$scheme"
