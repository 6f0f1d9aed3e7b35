"""API Gateway: REST APIs (v1) and HTTP/WebSocket APIs (v2). One unit per region lists the
APIs; each API's details are read by a follow-up unit on the same pool.

Kinds and attrs (scope ``"{account}/{region}"``)
------------------------------------------------

``ApiGatewayRestApi`` (uid: ``arn:{partition}:apigateway:{region}::/restapis/{id}``)
    api_id, name, description, endpoint_types: ["EDGE"|"REGIONAL"|"PRIVATE"],
    disable_execute_api_endpoint: bool, api_key_source, created_date,
    policy: normalised resource policy | null,
    methods: null when resources could not be read, else [
        {"path", "http_method", "authorization_type": "NONE"|"AWS_IAM"|"CUSTOM"|
         "COGNITO_USER_POOLS", "authorizer_id": str|null, "api_key_required": bool}]
        (sorted by path, method),
    authorizers: null when not readable, else [{"id", "name", "type", "identity_source"}],
    stages: null when not readable, else [
        {"name", "deployment_id", "invoke_url", "tracing_enabled": bool,
         "access_log_destination": ARN|null, "web_acl_arn": ARN|null,
         "client_certificate_id": str|null, "cache_cluster_enabled": bool,
         "throttling": {"rate_limit": float|null, "burst_limit": int|null}|null (the
         stage-wide ``*/*`` method setting), "throttled_methods": ["/path/VERB" with a
         throttling setting of its own] (sorted)}]
    tags

``ApiGatewayHttpApi`` (uid: ``arn:{partition}:apigateway:{region}::/apis/{id}``)
    api_id, name, description, protocol_type: "HTTP"|"WEBSOCKET", api_endpoint,
    disable_execute_api_endpoint: bool, created_date,
    cors: {"allow_origins": [..], "allow_methods": [..], "allow_headers": [..],
           "allow_credentials": bool|null} | null,
    routes: null when not readable, else [
        {"route_key", "authorization_type": "NONE"|"AWS_IAM"|"JWT"|"CUSTOM",
         "authorizer_id": str|null, "api_key_required": bool, "target": str|null}]
        (sorted by route key),
    authorizers: null when not readable, else [
        {"id", "name", "type": "JWT"|"REQUEST", "identity_source": [..],
         "jwt_issuer": str|null, "jwt_audience": [..]}] (those the routes use),
    stages: null when not readable, else [
        {"name", "invoke_url", "auto_deploy": bool, "access_log_destination": ARN|null,
         "throttling": {"rate_limit", "burst_limit"}|null (default route settings),
         "throttled_routes": [route key with throttling of its own] (sorted)}]
    tags

``ApiGatewayUsagePlan`` (uid: ``arn:{partition}:apigateway:{region}::/usageplans/{id}``)
    id, name, description, throttle: {"rate_limit", "burst_limit"}|null,
    quota: {"limit": int, "period": str}|null,
    api_stages: [{"api_id", "stage", "throttled_methods": ["/path/VERB"]}] (sorted)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from postureapp.collectors.aws._common import dns_suffix, iso, normalise_policy, scope, tags_dict
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("ApiGatewayRestApi", "ApiGatewayHttpApi", "ApiGatewayUsagePlan")


def units(ctx: Context, regions: list[str]) -> list[Unit]:
    result = []
    for region in regions:
        result.append(
            Unit(f"apigateway {region}", ("ApiGatewayRestApi",), partial(_rest, ctx, region))
        )
        result.append(
            Unit(f"apigatewayv2 {region}", ("ApiGatewayHttpApi",), partial(_http, ctx, region))
        )
        result.append(
            Unit(
                f"apigateway usage plans {region}",
                ("ApiGatewayUsagePlan",),
                partial(_usage_plans, ctx, region),
            )
        )
    return result


# -- REST APIs ----------------------------------------------------------------------------


def _rest(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("apigateway", region)
    with ctx.reading("ApiGatewayRestApi"):
        for page in ctx.pages(client, "get_rest_apis", marker_in="position", limit=500):
            for api in page.get("items", []):
                ctx.spawn(
                    Unit(
                        f"apigateway {region} {api['id']}",
                        ("ApiGatewayRestApi",),
                        partial(_one, _rest_api, ctx, client, region, api),
                    )
                )
    return []


def _rest_api(ctx: Context, client: Any, region: str, api: Mapping[str, Any]) -> Resource:
    api_id = api["id"]
    methods = None
    with ctx.reading("ApiGatewayRestApi"):
        found = []
        for page in ctx.pages(
            client,
            "get_resources",
            marker_in="position",
            restApiId=api_id,
            embed=["methods"],
            limit=500,
        ):
            for item in page.get("items", []):
                for verb, method in (item.get("resourceMethods") or {}).items():
                    method = method or {}
                    found.append(
                        {
                            "path": item.get("path", "/"),
                            "http_method": verb,
                            "authorization_type": method.get("authorizationType", "NONE"),
                            "authorizer_id": method.get("authorizerId"),
                            "api_key_required": bool(method.get("apiKeyRequired", False)),
                        }
                    )
        methods = sorted(found, key=lambda m: (m["path"], m["http_method"]))
    authorizers = None
    with ctx.reading("ApiGatewayRestApi"):
        found = []
        for page in ctx.pages(
            client, "get_authorizers", marker_in="position", restApiId=api_id, limit=500
        ):
            for auth in page.get("items", []):
                found.append(
                    {
                        "id": auth.get("id"),
                        "name": auth.get("name"),
                        "type": auth.get("type"),
                        "identity_source": auth.get("identitySource"),
                    }
                )
        authorizers = sorted(found, key=lambda a: a["id"] or "")
    stages = None
    host = f"{api_id}.execute-api.{region}.{dns_suffix(ctx.partition)}"
    with ctx.reading("ApiGatewayRestApi"):
        answer = ctx.call(client, "get_stages", restApiId=api_id) or {}
        stages = sorted(
            (
                {
                    "name": stage.get("stageName"),
                    "deployment_id": stage.get("deploymentId"),
                    "invoke_url": f"https://{host}/{stage.get('stageName')}",
                    "tracing_enabled": bool(stage.get("tracingEnabled", False)),
                    "access_log_destination": (stage.get("accessLogSettings") or {}).get(
                        "destinationArn"
                    ),
                    "web_acl_arn": stage.get("webAclArn"),
                    "client_certificate_id": stage.get("clientCertificateId"),
                    "cache_cluster_enabled": bool(stage.get("cacheClusterEnabled", False)),
                    **_rest_throttling(stage.get("methodSettings") or {}),
                }
                for stage in answer.get("item", [])
            ),
            key=lambda s: s["name"] or "",
        )
    attrs = {
        "api_id": api_id,
        "name": api.get("name", ""),
        "description": api.get("description", ""),
        "endpoint_types": list((api.get("endpointConfiguration") or {}).get("types", [])),
        "disable_execute_api_endpoint": bool(api.get("disableExecuteApiEndpoint", False)),
        "api_key_source": api.get("apiKeySource"),
        "created_date": iso(api.get("createdDate")),
        "policy": normalise_policy(api.get("policy")) if api.get("policy") else None,
        "methods": methods,
        "authorizers": authorizers,
        "stages": stages,
        "tags": tags_dict(api.get("tags")),
    }
    return Resource(
        uid=f"arn:{ctx.partition}:apigateway:{region}::/restapis/{api_id}",
        provider="aws",
        scope=scope(ctx.account, region),
        kind="ApiGatewayRestApi",
        name=api.get("name") or api_id,
        attrs=attrs,
        created_at=attrs["created_date"],
    )


# -- HTTP and WebSocket APIs --------------------------------------------------------------


def _http(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("apigatewayv2", region)
    with ctx.reading("ApiGatewayHttpApi"):
        for page in ctx.pages(client, "get_apis", marker_in="NextToken", MaxResults="500"):
            for api in page.get("Items", []):
                ctx.spawn(
                    Unit(
                        f"apigatewayv2 {region} {api['ApiId']}",
                        ("ApiGatewayHttpApi",),
                        partial(_one, _http_api, ctx, client, region, api),
                    )
                )
    return []


def _http_api(ctx: Context, client: Any, region: str, api: Mapping[str, Any]) -> Resource:
    api_id = api["ApiId"]
    routes = None
    with ctx.reading("ApiGatewayHttpApi"):
        found = []
        for page in ctx.pages(client, "get_routes", marker_in="NextToken", ApiId=api_id):
            for route in page.get("Items", []):
                found.append(
                    {
                        "route_key": route.get("RouteKey"),
                        "authorization_type": route.get("AuthorizationType", "NONE"),
                        "authorizer_id": route.get("AuthorizerId"),
                        "api_key_required": bool(route.get("ApiKeyRequired", False)),
                        "target": route.get("Target"),
                    }
                )
        routes = sorted(found, key=lambda r: r["route_key"] or "")
    authorizers = None
    with ctx.reading("ApiGatewayHttpApi"):
        # Per id, for the authorizers routes use: GetAuthorizers is missing from some
        # emulators, GetAuthorizer is not, and an unused authorizer exposes nothing.
        found = []
        for authorizer_id in sorted(
            {r["authorizer_id"] for r in routes or [] if r["authorizer_id"]}
        ):
            auth = (
                ctx.call(client, "get_authorizer", ApiId=api_id, AuthorizerId=authorizer_id) or {}
            )
            jwt = auth.get("JwtConfiguration") or {}
            found.append(
                {
                    "id": authorizer_id,
                    "name": auth.get("Name"),
                    "type": auth.get("AuthorizerType"),
                    "identity_source": list(auth.get("IdentitySource", [])),
                    "jwt_issuer": jwt.get("Issuer"),
                    "jwt_audience": list(jwt.get("Audience", [])),
                }
            )
        authorizers = found
    stages = None
    endpoint = api.get("ApiEndpoint") or (
        f"https://{api_id}.execute-api.{region}.{dns_suffix(ctx.partition)}"
    )
    with ctx.reading("ApiGatewayHttpApi"):
        found = []
        for page in ctx.pages(client, "get_stages", marker_in="NextToken", ApiId=api_id):
            for stage in page.get("Items", []):
                name = stage.get("StageName")
                found.append(
                    {
                        "name": name,
                        "invoke_url": endpoint if name == "$default" else f"{endpoint}/{name}",
                        "auto_deploy": bool(stage.get("AutoDeploy", False)),
                        "access_log_destination": (stage.get("AccessLogSettings") or {}).get(
                            "DestinationArn"
                        ),
                        "throttling": throttle(
                            stage.get("DefaultRouteSettings") or {},
                            "ThrottlingRateLimit",
                            "ThrottlingBurstLimit",
                        ),
                        "throttled_routes": sorted(
                            key
                            for key, settings in (stage.get("RouteSettings") or {}).items()
                            if throttle(
                                settings or {}, "ThrottlingRateLimit", "ThrottlingBurstLimit"
                            )
                        ),
                    }
                )
        stages = sorted(found, key=lambda s: s["name"] or "")
    cors = api.get("CorsConfiguration")
    attrs = {
        "api_id": api_id,
        "name": api.get("Name", ""),
        "description": api.get("Description", ""),
        "protocol_type": api.get("ProtocolType"),
        "api_endpoint": api.get("ApiEndpoint"),
        "disable_execute_api_endpoint": bool(api.get("DisableExecuteApiEndpoint", False)),
        "created_date": iso(api.get("CreatedDate")),
        "cors": None
        if not cors
        else {
            "allow_origins": list(cors.get("AllowOrigins", [])),
            "allow_methods": list(cors.get("AllowMethods", [])),
            "allow_headers": list(cors.get("AllowHeaders", [])),
            "allow_credentials": cors.get("AllowCredentials"),
        },
        "routes": routes,
        "authorizers": authorizers,
        "stages": stages,
        "tags": tags_dict(api.get("Tags")),
    }
    return Resource(
        uid=f"arn:{ctx.partition}:apigateway:{region}::/apis/{api_id}",
        provider="aws",
        scope=scope(ctx.account, region),
        kind="ApiGatewayHttpApi",
        name=api.get("Name") or api_id,
        attrs=attrs,
        created_at=attrs["created_date"],
    )


# -- throttling ---------------------------------------------------------------------------


def throttle(settings: Mapping[str, Any], rate: str, burst: str) -> dict[str, Any] | None:
    """``{"rate_limit", "burst_limit"}`` from a settings object, or None when neither is
    set."""
    if settings.get(rate) is None and settings.get(burst) is None:
        return None
    return {"rate_limit": settings.get(rate), "burst_limit": settings.get(burst)}


def _rest_throttling(method_settings: Mapping[str, Any]) -> dict[str, Any]:
    """A REST stage's ``methodSettings``: the stage-wide ``*/*`` entry and the methods with
    throttling of their own (keys are ``{path}/{VERB}``, the path without its leading /)."""
    keys = ("throttlingRateLimit", "throttlingBurstLimit")
    return {
        "throttling": throttle(method_settings.get("*/*") or {}, *keys),
        "throttled_methods": sorted(
            "/" + key.lstrip("/")
            for key, settings in method_settings.items()
            if key != "*/*" and throttle(settings or {}, *keys)
        ),
    }


def _usage_plans(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("apigateway", region)
    found = []
    with ctx.reading("ApiGatewayUsagePlan"):
        for page in ctx.pages(client, "get_usage_plans", marker_in="position", limit=500):
            for plan in page.get("items", []):
                found.append(usage_plan(ctx.partition, ctx.account, region, plan))
    return found


def usage_plan(partition: str, account: str, region: str, plan: Mapping[str, Any]) -> Resource:
    """One usage plan (``GetUsagePlans`` item) as a resource."""
    quota = plan.get("quota") or {}
    attrs = {
        "id": plan["id"],
        "name": plan.get("name", ""),
        "description": plan.get("description", ""),
        "throttle": throttle(plan.get("throttle") or {}, "rateLimit", "burstLimit"),
        "quota": {"limit": quota.get("limit"), "period": quota.get("period")} if quota else None,
        "api_stages": sorted(
            (
                {
                    "api_id": item.get("apiId"),
                    "stage": item.get("stage"),
                    "throttled_methods": sorted(
                        "/" + key.lstrip("/")
                        for key, settings in (item.get("throttle") or {}).items()
                        if throttle(settings or {}, "rateLimit", "burstLimit")
                    ),
                }
                for item in plan.get("apiStages", [])
            ),
            key=lambda item: (item["api_id"] or "", item["stage"] or ""),
        ),
    }
    return Resource(
        uid=f"arn:{partition}:apigateway:{region}::/usageplans/{plan['id']}",
        provider="aws",
        scope=scope(account, region),
        kind="ApiGatewayUsagePlan",
        name=plan.get("name") or plan["id"],
        attrs=attrs,
    )


def _one(build: Any, *args: Any) -> list[Resource]:
    """A unit that builds one resource."""
    return [build(*args)]
