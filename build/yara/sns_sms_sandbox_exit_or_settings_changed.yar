rule sns_sms_sandbox_exit_or_settings_changed
{
    meta:
        id = "077297ec-6375-436d-9fcc-a4fc6d612023"
        title = "SNS SMS Settings Changed Or Sandbox Number Added"
        description = "A principal changes the account SMS settings (spend limit, default sender) or adds and verifies a destination phone number in the SMS sandbox: steps that prepare an account for SMS spam."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1496.004"
        reference = "https://www.sentinelone.com/labs/sns-sender-active-campaigns-unleash-messaging-spam-through-the-cloud/"
        reference = "https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sns:CreateSMSSandboxPhoneNumber: Adds a destination phone number to an Amazon Web Services account in the SMS sandbox and sends a one-time password (OTP) to that phone number.
        $sms_setup_01 = "create-sms-sandbox-phone-number" ascii wide
        // sns:CreateSMSSandboxPhoneNumber: Adds a destination phone number to an Amazon Web Services account in the SMS sandbox and sends a one-time password (OTP) to that phone number.
        $sms_setup_02 = "create_sms_sandbox_phone_number" ascii wide
        // sns:SetSMSAttributes: Use this request to set the default settings for sending SMS messages and receiving daily SMS usage reports.
        $sms_setup_03 = "set-sms-attributes" ascii wide
        // sns:SetSMSAttributes: Use this request to set the default settings for sending SMS messages and receiving daily SMS usage reports.
        $sms_setup_04 = "set_sms_attributes" ascii wide
        // sns:VerifySMSSandboxPhoneNumber: Verifies a destination phone number with a one-time password (OTP) for the calling Amazon Web Services account.
        $sms_setup_05 = "verify-sms-sandbox-phone-number" ascii wide
        // sns:VerifySMSSandboxPhoneNumber: Verifies a destination phone number with a one-time password (OTP) for the calling Amazon Web Services account.
        $sms_setup_06 = "verify_sms_sandbox_phone_number" ascii wide
    condition:
        any of ($sms_setup_*)
}
