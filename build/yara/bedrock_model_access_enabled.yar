rule bedrock_model_access_enabled
{
    meta:
        id = "6aeab3f7-7899-41b1-ae10-a1b3d1ac168b"
        title = "Bedrock Model Access Use Case Or Agreement Submitted"
        description = "A principal submits the Bedrock use-case form or accepts a model agreement, which enables access to third-party models. LLMjackers enable models the owner never used."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1496.004"
        reference = "https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/"
        reference = "https://permiso.io/blog/exploiting-hosted-models"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // bedrock:CreateFoundationModelAgreement: Request a model access agreement for the specified model.
        $enable_01 = "create-foundation-model-agreement" ascii wide
        // bedrock:CreateFoundationModelAgreement: Request a model access agreement for the specified model.
        $enable_02 = "create_foundation_model_agreement" ascii wide
        // bedrock:PutUseCaseForModelAccess: Put usecase for model access.
        $enable_03 = "put-use-case-for-model-access" ascii wide
        // bedrock:PutUseCaseForModelAccess: Put usecase for model access.
        $enable_04 = "put_use_case_for_model_access" ascii wide
    condition:
        any of ($enable_*)
}
