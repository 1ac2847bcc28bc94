rule sns_sms_publish_after_probing
{
    meta:
        id = "11cd165f-a25b-49c3-9f63-1de84c7f37e5"
        title = "SNS Publish After SMS Sandbox Probing"
        description = "One principal probes the SNS SMS settings or sandbox status and publishes SNS messages within an hour. Publish to a phone number (direct SMS) and publish to a topic share one API name, so the probing step is what ties publishing to SMS spam."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.discovery, attack.t1496.004, attack.t1526"
        reference = "https://www.sentinelone.com/labs/sns-sender-active-campaigns-unleash-messaging-spam-through-the-cloud/"
        reference = "https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // header: must also be present
        $header_01 = "sns" ascii wide
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
        // sns:Publish: Sends a message to an Amazon SNS topic, a text message (SMS message) directly to a phone number, or a message to a mobile platform endpoint (when you specify the TargetArn).; sns:Publish: Sends a message to an Amazon SNS topic, a text message (SMS message) directly to a phone number, or a message to a mobile platform endpoint (when you specify the TargetArn).
        $publish_01 = "publish" ascii wide
        // sns:PublishBatch: Publishes up to 10 messages to the specified topic in a single batch.
        $publish_02 = "publish-batch" ascii wide
        // sns:PublishBatch: Publishes up to 10 messages to the specified topic in a single batch.
        $publish_03 = "publish_batch" ascii wide
    condition:
        any of ($header_*) and (any of ($probe_*) and any of ($publish_*))
}
