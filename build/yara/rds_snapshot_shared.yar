rule rds_snapshot_shared
{
    meta:
        id = "ed050e58-ec86-42ed-805e-e7441e386ef6"
        title = "RDS Snapshot Sharing Permissions Modified"
        description = "A principal changes the restore attribute of an RDS DB snapshot or DB cluster snapshot, which shares it with other accounts (or makes it public) so that the database can be restored outside."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.exfiltration, attack.t1537"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.rds-share-snapshot/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // rds:ModifyDBClusterSnapshotAttribute: Adds an attribute and values to, or removes an attribute and values from, a manual DB cluster snapshot.
        $share_01 = "modify-db-cluster-snapshot-attribute" ascii wide
        // rds:ModifyDBSnapshotAttribute: Adds an attribute and values to, or removes an attribute and values from, a manual DB snapshot.
        $share_02 = "modify-db-snapshot-attribute" ascii wide
        // rds:ModifyDBClusterSnapshotAttribute: Adds an attribute and values to, or removes an attribute and values from, a manual DB cluster snapshot.
        $share_03 = "modify_db_cluster_snapshot_attribute" ascii wide
        // rds:ModifyDBSnapshotAttribute: Adds an attribute and values to, or removes an attribute and values from, a manual DB snapshot.
        $share_04 = "modify_db_snapshot_attribute" ascii wide
    condition:
        any of ($share_*)
}
