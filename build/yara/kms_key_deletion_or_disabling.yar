rule kms_key_deletion_or_disabling
{
    meta:
        id = "28f22038-dfa9-4949-89c3-71d641e0fae4"
        title = "KMS Key Scheduled for Deletion Or Disabled"
        description = "A principal schedules a KMS key for deletion, disables it, or deletes its imported key material. Without the key, data encrypted under it cannot be read: a ransom or destruction step."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.impact, attack.t1485, attack.t1486"
        reference = "https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"
        reference = "https://rhinosecuritylabs.com/aws/s3-ransomware-part-1-attack-vector/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // kms:DeleteImportedKeyMaterial: Deletes key material that was previously imported.
        $key_loss_01 = "delete-imported-key-material" ascii wide
        // kms:DeleteImportedKeyMaterial: Deletes key material that was previously imported.
        $key_loss_02 = "delete_imported_key_material" ascii wide
        // kms:DisableKey: Sets the state of a KMS key to disabled.
        $key_loss_03 = "disable-key" ascii wide
        // kms:DisableKey: Sets the state of a KMS key to disabled.
        $key_loss_04 = "disable_key" ascii wide
        // kms:ScheduleKeyDeletion: Schedules the deletion of a KMS key.
        $key_loss_05 = "schedule-key-deletion" ascii wide
        // kms:ScheduleKeyDeletion: Schedules the deletion of a KMS key.
        $key_loss_06 = "schedule_key_deletion" ascii wide
    condition:
        any of ($key_loss_*)
}
