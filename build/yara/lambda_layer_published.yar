rule lambda_layer_published
{
    meta:
        id = "fe031e2c-150e-4cfc-b91b-0326e00f604c"
        title = "Lambda Layer Version Published Or Shared"
        description = "A principal publishes a Lambda layer version or grants another account use of one. A malicious layer or extension runs inside every function that uses it."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.persistence, attack.execution, attack.t1648"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-layer-extension/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // lambda:AddLayerVersionPermission: Adds permissions to the resource-based policy of a version of an Lambda layer.
        $layer_01 = "add-layer-version-permission" ascii wide
        // lambda:AddLayerVersionPermission: Adds permissions to the resource-based policy of a version of an Lambda layer.
        $layer_02 = "add_layer_version_permission" ascii wide
        // lambda:PublishLayerVersion: Creates an Lambda layer from a ZIP archive.
        $layer_03 = "publish-layer-version" ascii wide
        // lambda:PublishLayerVersion: Creates an Lambda layer from a ZIP archive.
        $layer_04 = "publish_layer_version" ascii wide
    condition:
        any of ($layer_*)
}
