"""Which secret sink a run writes generated passwords to: msp.yaml's ``secretSink.keyVault``
(Azure Key Vault), else its local ``directory``.

With ``--sandbox`` the vault is the sandbox's emulation (its endpoint, its CA, the partner
app's sandbox credential: the sandbox has no managed identity); ``endpoints.keyVault`` in
msp.yaml sends the requests to another host the same way (a sandbox served to other
processes). The SDK's check that the vault's host belongs to the resource in its challenge is
off only then: 127.0.0.1 is no vault.azure.net.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from controller.apply import DirectorySink, SecretSink
from controller.models import MSPConfig
from controller.reconcile._world import World


def secret_sink(msp: MSPConfig, world: World) -> SecretSink:
    config = msp.spec.secret_sink
    vault = config.key_vault
    if vault is None:
        return DirectorySink(Path(config.directory).expanduser())
    from controller.apply._key_vault import KeyVaultSink, key_vault_credential, vault_transport

    sandbox = world.sandbox
    target = sandbox.endpoints["keyVault"] if sandbox is not None else None
    target = target or msp.spec.endpoints.key_vault or vault.url
    options: dict[str, Any] = {}
    if target.rstrip("/") != vault.url.rstrip("/"):
        options["verify_challenge_resource"] = False
    bundle = world.settings.ca_bundle
    options["transport"] = vault_transport(str(bundle) if bundle is not None else None)
    credential = key_vault_credential(world.settings, vault, managed_identity=sandbox is None)
    return KeyVaultSink(
        target,
        credential,
        expires_in=dt.timedelta(days=vault.expires_in_days),
        shown_as=vault.url,
        **options,
    )
