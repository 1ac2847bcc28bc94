rule ses_production_access_requested
{
    meta:
        id = "43ba797f-a0a5-4484-adaf-479a1daa7709"
        title = "SES Production Access Requested"
        description = "A principal submits SES account details (sesv2 PutAccountDetails), which is how an account asks AWS to leave the SES sandbox and send to any recipient. Hijacked accounts do this to send spam at scale."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1496.004"
        reference = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html"
        reference = "https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/"
        reference = "https://securitylabs.datadoghq.com/articles/following-attackers-trail-in-aws-methodology-findings-in-the-wild/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sesv2:PutAccountDetails: Update your Amazon SES account details.
        $production_01 = "put-account-details" ascii wide
        // sesv2:PutAccountDetails: Update your Amazon SES account details.
        $production_02 = "put_account_details" ascii wide
    condition:
        any of ($production_*)
}
