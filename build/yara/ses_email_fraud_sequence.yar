rule ses_email_fraud_sequence
{
    meta:
        id = "e963966a-172a-49b0-bfd6-ee4e98df8b6a"
        title = "SES Probing Followed by Sender Setup"
        description = "One principal probes the SES quota or identities and, within an hour, enables sending, verifies a new identity or asks for production access: the setup of a hijacked account for email fraud."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.impact, attack.discovery, attack.t1496.004, attack.t1526"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.discovery.ses-enumerate/"
        reference = "https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/"
        reference = "https://securitylabs.datadoghq.com/articles/following-attackers-trail-in-aws-methodology-findings-in-the-wild/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // header: must also be present
        $header_01 = "ses" ascii wide
        // sesv2:GetAccount: Obtain information about the email-sending status and capabilities of your Amazon SES account in the current Amazon Web Services Region.
        $probe_01 = "get-account" ascii wide
        // ses:GetAccountSendingEnabled: Returns the email sending status of the Amazon SES account for the current Region.
        $probe_02 = "get-account-sending-enabled" ascii wide
        // ses:GetSendQuota: Provides the sending limits for the Amazon SES account.
        $probe_03 = "get-send-quota" ascii wide
        // ses:GetSendStatistics: Provides sending statistics for the current Amazon Web Services Region.
        $probe_04 = "get-send-statistics" ascii wide
        // sesv2:GetAccount: Obtain information about the email-sending status and capabilities of your Amazon SES account in the current Amazon Web Services Region.
        $probe_05 = "get_account" ascii wide
        // ses:GetAccountSendingEnabled: Returns the email sending status of the Amazon SES account for the current Region.
        $probe_06 = "get_account_sending_enabled" ascii wide
        // ses:GetSendQuota: Provides the sending limits for the Amazon SES account.
        $probe_07 = "get_send_quota" ascii wide
        // ses:GetSendStatistics: Provides sending statistics for the current Amazon Web Services Region.
        $probe_08 = "get_send_statistics" ascii wide
        // sesv2:ListEmailIdentities: Returns a list of all of the email identities that are associated with your Amazon Web Services account.
        $probe_09 = "list-email-identities" ascii wide
        // ses:ListIdentities: Returns a list containing all of the identities (email addresses and domains) for your Amazon Web Services account in the current Amazon Web Services Region, regardless of verification status.
        $probe_10 = "list-identities" ascii wide
        // sesv2:ListEmailIdentities: Returns a list of all of the email identities that are associated with your Amazon Web Services account.
        $probe_11 = "list_email_identities" ascii wide
        // ses:ListIdentities: Returns a list containing all of the identities (email addresses and domains) for your Amazon Web Services account in the current Amazon Web Services Region, regardless of verification status.
        $probe_12 = "list_identities" ascii wide
        // ses:ListVerifiedEmailAddresses: Deprecated.
        $probe_13 = "list_verified_email_addresses" ascii wide
        // sesv2:CreateEmailIdentity: Starts the process of verifying an email identity.
        $setup_01 = "create-email-identity" ascii wide
        // sesv2:CreateEmailIdentity: Starts the process of verifying an email identity.
        $setup_02 = "create_email_identity" ascii wide
        // sesv2:PutAccountDetails: Update your Amazon SES account details.
        $setup_03 = "put-account-details" ascii wide
        // sesv2:PutAccountSendingAttributes: Enable or disable the ability of your account to send email.
        $setup_04 = "put-account-sending-attributes" ascii wide
        // sesv2:PutAccountDetails: Update your Amazon SES account details.
        $setup_05 = "put_account_details" ascii wide
        // sesv2:PutAccountSendingAttributes: Enable or disable the ability of your account to send email.
        $setup_06 = "put_account_sending_attributes" ascii wide
        // ses:UpdateAccountSendingEnabled: Enables or disables email sending across your entire Amazon SES account in the current Amazon Web Services Region.
        $setup_07 = "update-account-sending-enabled" ascii wide
        // ses:UpdateAccountSendingEnabled: Enables or disables email sending across your entire Amazon SES account in the current Amazon Web Services Region.
        $setup_08 = "update_account_sending_enabled" ascii wide
        // ses:VerifyDomainDkim: Returns a set of DKIM tokens for a domain identity.
        $setup_09 = "verify-domain-dkim" ascii wide
        // ses:VerifyDomainIdentity: Adds a domain to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $setup_10 = "verify-domain-identity" ascii wide
        // ses:VerifyEmailIdentity: Adds an email address to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $setup_11 = "verify-email-identity" ascii wide
        // ses:VerifyDomainDkim: Returns a set of DKIM tokens for a domain identity.
        $setup_12 = "verify_domain_dkim" ascii wide
        // ses:VerifyDomainIdentity: Adds a domain to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $setup_13 = "verify_domain_identity" ascii wide
        // ses:VerifyEmailAddress: Deprecated.
        $setup_14 = "verify_email_address" ascii wide
        // ses:VerifyEmailIdentity: Adds an email address to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $setup_15 = "verify_email_identity" ascii wide
    condition:
        any of ($header_*) and (any of ($probe_*) and any of ($setup_*))
}
