rule securityhub_disabled
{
    meta:
        id = "914a730a-c448-4fce-a9ff-12ee9f32620c"
        title = "Security Hub Disabled Or Standards Turned Off"
        description = "A principal disables Security Hub, disables security standards, or stops the import of findings from a product, hiding the controls that would report the attacker."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.defense-evasion, attack.t1562.001"
        reference = "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-disable.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // securityhub:BatchDisableStandards: Disables the standards specified by the provided StandardsSubscriptionArns.
        $hub_off_01 = "batch-disable-standards" ascii wide
        // securityhub:BatchDisableStandards: Disables the standards specified by the provided StandardsSubscriptionArns.
        $hub_off_02 = "batch_disable_standards" ascii wide
        // securityhub:DisableImportFindingsForProduct: Disables the integration of the specified product with Security Hub CSPM.
        $hub_off_03 = "disable-import-findings-for-product" ascii wide
        // securityhub:DisableSecurityHub: Disables Security Hub CSPM in your account only in the current Amazon Web Services Region.
        $hub_off_04 = "disable-security-hub" ascii wide
        // securityhub:DisableSecurityHubV2: Disable the service for the current Amazon Web Services Region or specified Amazon Web Services Region.
        $hub_off_05 = "disable-security-hub-v2" ascii wide
        // securityhub:DisableImportFindingsForProduct: Disables the integration of the specified product with Security Hub CSPM.
        $hub_off_06 = "disable_import_findings_for_product" ascii wide
        // securityhub:DisableSecurityHub: Disables Security Hub CSPM in your account only in the current Amazon Web Services Region.
        $hub_off_07 = "disable_security_hub" ascii wide
        // securityhub:DisableSecurityHubV2: Disable the service for the current Amazon Web Services Region or specified Amazon Web Services Region.
        $hub_off_08 = "disable_security_hub_v2" ascii wide
    condition:
        any of ($hub_off_*)
}
