"""Search the catalog by regular expressions over names, descriptions, services and sources."""

from __future__ import annotations

from capiche_build.catalog import Catalog, Operation
from capiche_build.regex_safety import compile_user_regex


def search(
    catalog: Catalog,
    name: str | None = None,
    description: str | None = None,
    service: str | None = None,
    event_source: str | None = None,
    *,
    where: str = "",
) -> list[Operation]:
    """Operations matching every given filter, sorted by (service, name).

    `name` and `description` are searched anywhere in `service:Name` and the description;
    `service` and `event_source` must match the whole service name / eventSource. All
    case-insensitive. Patterns that could backtrack catastrophically are refused.
    """
    name_re = compile_user_regex(name, where=where) if name is not None else None
    desc_re = compile_user_regex(description, where=where) if description is not None else None
    service_re = compile_user_regex(service, where=where) if service is not None else None
    source_re = compile_user_regex(event_source, where=where) if event_source is not None else None

    # Filter on the cheap string tuple first, build Operation objects only for survivors.
    indices = range(len(catalog))
    if name_re is not None:
        apis = catalog.apis
        indices = [i for i in indices if name_re.search(apis[i])]
    if service_re is not None:
        services = catalog.service_of
        indices = [i for i in indices if service_re.fullmatch(services[i])]
    if source_re is not None:
        sources = catalog.event_source_of
        indices = [i for i in indices if source_re.fullmatch(sources[i])]
    if desc_re is not None:
        descriptions = catalog.descriptions
        indices = [i for i in indices if desc_re.search(descriptions[i])]
    return [catalog.op(i) for i in indices]
