/**
 * Where Spilo's WAL-G keeps a cluster's backups. Its own module so that the Spilo renderer (renderers/patroniSpilo.ts,
 * which re-exports it) and the restore renderer (renderers/spiloRestore.ts) share it without importing each other.
 * Pure.
 */

/** The S3 path WAL-G uses for a cluster: one prefix per region so a promoted standby never writes into the primary's path. */
export function walS3Prefix(bucket: string, scope: string, region: string, pgVersion: number): string {
    return `s3://${bucket}/spilo/${scope}/${region}/wal/${pgVersion}`;
}
