"""Import: write tenant files from what the tenants hold (``tenantctl import``).

``_build`` (observed tenant -> :class:`TenantImport`) and ``_yaml`` (-> YAML text) are pure:
no HTTP, no clock, no file system. ``_discover`` names the GDAP customers that ``desired/``
does not declare yet and writes a skeleton file for each (``tenantctl discover --write``). ``_run`` is the only code here that does I/O (with ``_discover``'s reads and skeleton
files): it observes
through the connectors (every group's members and every mailbox's permissions, not only the
declared ones), checks the text as ``tenantctl validate`` would, and writes each file whole.

Round trip: ``plan`` right after ``import`` reports no change for the imported tenant. An area
that could not be read refuses the tenant; nothing is written for it.
"""

from controller.importer._build import build_tenant_import, skeleton_metadata
from controller.importer._check import check_observed
from controller.importer._discover import (
    assign_names,
    discover_run,
    skeleton_tenant_yaml,
    write_skeletons,
)
from controller.importer._run import (
    ImportOutcome,
    ImportRequest,
    ImportTarget,
    check_tenant_file,
    find_targets,
    import_run,
    import_tenants,
    write_whole,
)
from controller.importer._types import (
    SECTIONS,
    ImportOptions,
    ImportRefused,
    Section,
    TenantImport,
)
from controller.importer._yaml import SCHEMA_MODELINE, render_tenant_yaml

__all__ = [
    "SCHEMA_MODELINE",
    "SECTIONS",
    "ImportOptions",
    "ImportOutcome",
    "ImportRefused",
    "ImportRequest",
    "ImportTarget",
    "Section",
    "TenantImport",
    "assign_names",
    "build_tenant_import",
    "check_observed",
    "check_tenant_file",
    "discover_run",
    "find_targets",
    "import_run",
    "import_tenants",
    "render_tenant_yaml",
    "skeleton_metadata",
    "skeleton_tenant_yaml",
    "write_skeletons",
    "write_whole",
]
