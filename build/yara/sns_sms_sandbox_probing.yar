rule sns_sms_sandbox_probing
{
    meta:
        id = "52c8cb85-4cc5-49f5-a098-bf6d8ff52e6a"
        title = "SNS SMS Attributes And Sandbox Probing"
        description = "A principal reads the SNS SMS settings, the SMS sandbox status or the origination numbers. SMS spam tools check whether a stolen account is out of the SMS sandbox and what it may spend before they send."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.discovery, attack.t1526"
        reference = "https://www.sentinelone.com/labs/sns-sender-active-campaigns-unleash-messaging-spam-through-the-cloud/"
        reference = "https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sns:GetSMSAttributes: Returns the settings for sending SMS messages from your Amazon Web Services account.
        $probe_01 = "get-sms-attributes" ascii wide
        // sns:GetSMSSandboxAccountStatus: Retrieves the SMS sandbox status for the calling Amazon Web Services account in the target Amazon Web Services Region.
        $probe_02 = "get-sms-sandbox-account-status" ascii wide
        // sns:GetSMSAttributes: Returns the settings for sending SMS messages from your Amazon Web Services account.
        $probe_03 = "get_sms_attributes" ascii wide
        // sns:GetSMSSandboxAccountStatus: Retrieves the SMS sandbox status for the calling Amazon Web Services account in the target Amazon Web Services Region.
        $probe_04 = "get_sms_sandbox_account_status" ascii wide
        // sns:ListOriginationNumbers: Lists the calling Amazon Web Services account's dedicated origination numbers and their metadata.
        $probe_05 = "list-origination-numbers" ascii wide
        // sns:ListPhoneNumbersOptedOut: Returns a list of phone numbers that are opted out, meaning you cannot send SMS messages to them.
        $probe_06 = "list-phone-numbers-opted-out" ascii wide
        // sns:ListSMSSandboxPhoneNumbers: Lists the calling Amazon Web Services account's current verified and pending destination phone numbers in the SMS sandbox.
        $probe_07 = "list-sms-sandbox-phone-numbers" ascii wide
        // sns:ListOriginationNumbers: Lists the calling Amazon Web Services account's dedicated origination numbers and their metadata.
        $probe_08 = "list_origination_numbers" ascii wide
        // sns:ListPhoneNumbersOptedOut: Returns a list of phone numbers that are opted out, meaning you cannot send SMS messages to them.
        $probe_09 = "list_phone_numbers_opted_out" ascii wide
        // sns:ListSMSSandboxPhoneNumbers: Lists the calling Amazon Web Services account's current verified and pending destination phone numbers in the SMS sandbox.
        $probe_10 = "list_sms_sandbox_phone_numbers" ascii wide
    condition:
        any of ($probe_*)
}
