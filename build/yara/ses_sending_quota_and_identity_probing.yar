rule ses_sending_quota_and_identity_probing
{
    meta:
        id = "72571371-5ad0-4790-b475-7d640bb21918"
        title = "SES Sending Quota And Identity Probing"
        description = "A principal reads the SES sending quota, sending statistics or the list of verified identities. Attackers holding stolen keys run these calls first to learn whether the account can send email and how much, before using it for spam or phishing."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.discovery, attack.t1526"
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
    condition:
        any of ($header_*) and (any of ($probe_*))
}
