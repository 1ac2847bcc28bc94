rule ses_account_sending_enabled
{
    meta:
        id = "594a6f55-ca52-4a4b-a082-043f48ef775e"
        title = "SES Account Sending Enabled"
        description = "A principal switches email sending on for the SES account or a configuration set, or changes the account sending attributes. After AWS pauses an abused account, spammers turn sending back on with these calls."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1496.004"
        reference = "https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/"
        reference = "https://securitylabs.datadoghq.com/articles/following-attackers-trail-in-aws-methodology-findings-in-the-wild/"
        reference = "https://docs.aws.amazon.com/ses/latest/dg/manage-sending-status.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sesv2:PutAccountSendingAttributes: Enable or disable the ability of your account to send email.
        $enable_01 = "put-account-sending-attributes" ascii wide
        // sesv2:PutAccountSendingAttributes: Enable or disable the ability of your account to send email.
        $enable_02 = "put_account_sending_attributes" ascii wide
        // ses:UpdateAccountSendingEnabled: Enables or disables email sending across your entire Amazon SES account in the current Amazon Web Services Region.
        $enable_03 = "update-account-sending-enabled" ascii wide
        // ses:UpdateConfigurationSetSendingEnabled: Enables or disables email sending for messages sent using a specific configuration set in a given Amazon Web Services Region.
        $enable_04 = "update-configuration-set-sending-enabled" ascii wide
        // ses:UpdateAccountSendingEnabled: Enables or disables email sending across your entire Amazon SES account in the current Amazon Web Services Region.
        $enable_05 = "update_account_sending_enabled" ascii wide
        // ses:UpdateConfigurationSetSendingEnabled: Enables or disables email sending for messages sent using a specific configuration set in a given Amazon Web Services Region.
        $enable_06 = "update_configuration_set_sending_enabled" ascii wide
    condition:
        any of ($enable_*)
}
