rule guardduty_detector_disabled
{
    meta:
        id = "367dd9d3-6ac7-4b05-912d-ce5a7a261dc6"
        title = "GuardDuty Detector Deleted, Updated Or Disassociated"
        description = "A principal deletes or updates a GuardDuty detector (UpdateDetector can disable it), or detaches the account from its GuardDuty administrator account, so that threat findings stop."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.defense-evasion, attack.t1562.001"
        reference = "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html"
        reference = "https://securitylabs.datadoghq.com/articles/following-attackers-trail-in-aws-methodology-findings-in-the-wild/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // guardduty:DeleteDetector: Deletes an Amazon GuardDuty detector that is specified by the detector ID.
        $detector_off_01 = "delete-detector" ascii wide
        // guardduty:DeleteDetector: Deletes an Amazon GuardDuty detector that is specified by the detector ID.
        $detector_off_02 = "delete_detector" ascii wide
        // guardduty:DisassociateFromAdministratorAccount: Disassociates the current GuardDuty member account from its administrator account.
        $detector_off_03 = "disassociate-from-administrator-account" ascii wide
        // guardduty:DisassociateFromMasterAccount: Disassociates the current GuardDuty member account from its administrator account.
        $detector_off_04 = "disassociate-from-master-account" ascii wide
        // guardduty:DisassociateFromAdministratorAccount: Disassociates the current GuardDuty member account from its administrator account.
        $detector_off_05 = "disassociate_from_administrator_account" ascii wide
        // guardduty:DisassociateFromMasterAccount: Disassociates the current GuardDuty member account from its administrator account.
        $detector_off_06 = "disassociate_from_master_account" ascii wide
        // guardduty:UpdateDetector: Updates the GuardDuty detector specified by the detector ID.
        $detector_off_07 = "update-detector" ascii wide
        // guardduty:UpdateDetector: Updates the GuardDuty detector specified by the detector ID.
        $detector_off_08 = "update_detector" ascii wide
    condition:
        any of ($detector_off_*)
}
