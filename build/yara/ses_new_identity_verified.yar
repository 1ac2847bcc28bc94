rule ses_new_identity_verified
{
    meta:
        id = "53f9cc31-16f1-4c25-97a4-a3360be8f747"
        title = "SES Email Or Domain Identity Verification Started"
        description = "A principal starts the verification of a new SES sender identity (an email address or a domain). Email fraud campaigns add their own sender addresses to a hijacked SES account before they send."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1496.004"
        reference = "https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/"
        reference = "https://securitylabs.datadoghq.com/articles/following-attackers-trail-in-aws-methodology-findings-in-the-wild/"
        reference = "https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sesv2:CreateEmailIdentity: Starts the process of verifying an email identity.
        $verify_01 = "create-email-identity" ascii wide
        // sesv2:CreateEmailIdentity: Starts the process of verifying an email identity.
        $verify_02 = "create_email_identity" ascii wide
        // ses:VerifyDomainDkim: Returns a set of DKIM tokens for a domain identity.
        $verify_03 = "verify-domain-dkim" ascii wide
        // ses:VerifyDomainIdentity: Adds a domain to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $verify_04 = "verify-domain-identity" ascii wide
        // ses:VerifyEmailIdentity: Adds an email address to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $verify_05 = "verify-email-identity" ascii wide
        // ses:VerifyDomainDkim: Returns a set of DKIM tokens for a domain identity.
        $verify_06 = "verify_domain_dkim" ascii wide
        // ses:VerifyDomainIdentity: Adds a domain to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $verify_07 = "verify_domain_identity" ascii wide
        // ses:VerifyEmailAddress: Deprecated.
        $verify_08 = "verify_email_address" ascii wide
        // ses:VerifyEmailIdentity: Adds an email address to the list of identities for your Amazon SES account in the current Amazon Web Services Region and attempts to verify it.
        $verify_09 = "verify_email_identity" ascii wide
    condition:
        any of ($verify_*)
}
