import S3Protocol
import Testing

@Suite struct ResponseRenderingTests {
    let owner = S3Owner(id: "abc123", displayName: "me")

    @Test func listAllMyBuckets() {
        let result = ListAllMyBucketsResult(
            owner: owner,
            buckets: [.init(name: "alpha", creationDate: sampleDate), .init(name: "beta", creationDate: sampleDate, region: "eu-west-1")]
        )
        #expect(result.xmlString() == xmlDeclaration
            + "<ListAllMyBucketsResult \(s3Namespace)><Owner><ID>abc123</ID><DisplayName>me</DisplayName></Owner>"
            + "<Buckets><Bucket><Name>alpha</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate></Bucket>"
            + "<Bucket><Name>beta</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>"
            + "</Buckets></ListAllMyBucketsResult>")
    }

    @Test func listObjectsV1() {
        let result = ListObjectsResult(
            name: "bucket",
            prefix: "p/",
            marker: "",
            nextMarker: "p/b",
            maxKeys: 2,
            delimiter: "/",
            isTruncated: true,
            contents: [.init(key: "p/a", lastModified: sampleDate, eTag: "\"etag\"", size: 5, owner: owner)],
            commonPrefixes: ["p/sub/"]
        )
        #expect(result.xmlString() == xmlDeclaration
            + "<ListBucketResult \(s3Namespace)><Name>bucket</Name><Prefix>p/</Prefix><Marker></Marker>"
            + "<NextMarker>p/b</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
            + "<Contents><Key>p/a</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;etag&quot;</ETag>"
            + "<Size>5</Size><Owner><ID>abc123</ID><DisplayName>me</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>"
            + "<CommonPrefixes><Prefix>p/sub/</Prefix></CommonPrefixes></ListBucketResult>")
    }

    @Test func listObjectsV2WithURLEncoding() {
        let result = ListObjectsV2Result(
            name: "bucket",
            prefix: "a b/",
            continuationToken: "tok+1",
            nextContinuationToken: "tok/2",
            maxKeys: 1000,
            delimiter: "/",
            encodingTypeURL: true,
            isTruncated: false,
            startAfter: "a b/0",
            contents: [.init(key: "a b/c+d%e&f", lastModified: sampleDate, eTag: "\"e\"", size: 0)],
            commonPrefixes: ["a b/日/"]
        )
        #expect(result.keyCount == 2)
        #expect(result.xmlString() == xmlDeclaration
            + "<ListBucketResult \(s3Namespace)><Name>bucket</Name><Prefix>a%20b/</Prefix>"
            + "<ContinuationToken>tok+1</ContinuationToken><NextContinuationToken>tok/2</NextContinuationToken>"
            + "<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><EncodingType>url</EncodingType>"
            + "<IsTruncated>false</IsTruncated><StartAfter>a%20b/0</StartAfter>"
            + "<Contents><Key>a%20b/c%2Bd%25e%26f</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>"
            + "<ETag>&quot;e&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>"
            + "<CommonPrefixes><Prefix>a%20b/%E6%97%A5/</Prefix></CommonPrefixes></ListBucketResult>")
    }

    @Test func urlEncodingMakesControlCharactersSafe() {
        let result = ListObjectsV2Result(
            name: "b", encodingTypeURL: true,
            contents: [.init(key: "x\u{1}y", lastModified: sampleDate, eTag: "\"e\"", size: 1)]
        )
        #expect(result.xmlString().contains("<Key>x%01y</Key>"))
    }

    @Test func listVersions() {
        let result = ListVersionsResult(
            name: "b",
            keyMarker: "k",
            versionIdMarker: "v0",
            nextKeyMarker: "k2",
            nextVersionIdMarker: "v9",
            maxKeys: 2,
            isTruncated: true,
            entries: [
                .deleteMarker(.init(key: "k1", versionId: "v2", isLatest: true, lastModified: sampleDate, owner: owner)),
                .version(.init(key: "k1", versionId: "v1", isLatest: false, lastModified: sampleDate, eTag: "\"x\"", size: 3)),
            ]
        )
        #expect(result.xmlString() == xmlDeclaration
            + "<ListVersionsResult \(s3Namespace)><Name>b</Name><Prefix></Prefix><KeyMarker>k</KeyMarker>"
            + "<VersionIdMarker>v0</VersionIdMarker><NextKeyMarker>k2</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>"
            + "<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
            + "<DeleteMarker><Key>k1</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest>"
            + "<LastModified>2024-01-02T03:04:05.000Z</LastModified><Owner><ID>abc123</ID><DisplayName>me</DisplayName></Owner></DeleteMarker>"
            + "<Version><Key>k1</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>"
            + "<LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;x&quot;</ETag><Size>3</Size>"
            + "<StorageClass>STANDARD</StorageClass></Version></ListVersionsResult>")
    }

    @Test func multipartResponses() {
        #expect(InitiateMultipartUploadResult(bucket: "b", key: "k", uploadId: "u").xmlString() == xmlDeclaration
            + "<InitiateMultipartUploadResult \(s3Namespace)><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId></InitiateMultipartUploadResult>")
        let complete = CompleteMultipartUploadResult(
            location: "http://h/b/k", bucket: "b", key: "k", eTag: "\"abc-2\"",
            checksums: S3Checksums(crc32: "AAAAAA==", type: "COMPOSITE")
        )
        #expect(complete.xmlString() == xmlDeclaration
            + "<CompleteMultipartUploadResult \(s3Namespace)><Location>http://h/b/k</Location><Bucket>b</Bucket>"
            + "<Key>k</Key><ETag>&quot;abc-2&quot;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32>"
            + "<ChecksumType>COMPOSITE</ChecksumType></CompleteMultipartUploadResult>")
    }

    @Test func listParts() {
        let result = ListPartsResult(
            bucket: "b", key: "k", uploadId: "u",
            initiator: S3Owner(id: "i"), owner: S3Owner(id: "o"),
            partNumberMarker: 0, nextPartNumberMarker: 1, maxParts: 1, isTruncated: true,
            parts: [.init(partNumber: 1, lastModified: sampleDate, eTag: "\"p1\"", size: 5_242_880)]
        )
        #expect(result.xmlString() == xmlDeclaration
            + "<ListPartsResult \(s3Namespace)><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>"
            + "<Initiator><ID>i</ID></Initiator><Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass>"
            + "<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1</MaxParts>"
            + "<IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2024-01-02T03:04:05.000Z</LastModified>"
            + "<ETag>&quot;p1&quot;</ETag><Size>5242880</Size></Part></ListPartsResult>")
    }

    @Test func listMultipartUploads() {
        let result = ListMultipartUploadsResult(
            bucket: "b", delimiter: "/", prefix: "a b", encodingTypeURL: true,
            uploads: [.init(key: "a b/1", uploadId: "u1", initiator: S3Owner(id: "i"), owner: S3Owner(id: "o"), initiated: sampleDate)],
            commonPrefixes: ["a b/x/"]
        )
        #expect(result.xmlString() == xmlDeclaration
            + "<ListMultipartUploadsResult \(s3Namespace)><Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
            + "<Delimiter>/</Delimiter><Prefix>a%20b</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>"
            + "<EncodingType>url</EncodingType><Upload><Key>a%20b/1</Key><UploadId>u1</UploadId><Initiator><ID>i</ID></Initiator>"
            + "<Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass><Initiated>2024-01-02T03:04:05.000Z</Initiated></Upload>"
            + "<CommonPrefixes><Prefix>a%20b/x/</Prefix></CommonPrefixes></ListMultipartUploadsResult>")
    }

    @Test func copyResults() {
        #expect(CopyObjectResult(lastModified: sampleDate, eTag: "\"c\"").xmlString() == xmlDeclaration
            + "<CopyObjectResult \(s3Namespace)><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;c&quot;</ETag></CopyObjectResult>")
        #expect(CopyPartResult(lastModified: sampleDate, eTag: "\"c\"", checksums: S3Checksums(sha256: "x=")).xmlString() == xmlDeclaration
            + "<CopyPartResult \(s3Namespace)><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;c&quot;</ETag>"
            + "<ChecksumSHA256>x=</ChecksumSHA256></CopyPartResult>")
    }

    @Test func deleteResult() {
        let result = DeleteResult(
            deleted: [
                .init(key: "a"),
                .init(key: "b", deleteMarker: true, deleteMarkerVersionId: "dm1"),
                .init(key: "c", versionId: "v1"),
            ],
            errors: [.init(key: "d", error: S3Error(.accessDenied))]
        )
        #expect(result.xmlString() == xmlDeclaration
            + "<DeleteResult \(s3Namespace)><Deleted><Key>a</Key></Deleted>"
            + "<Deleted><Key>b</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>dm1</DeleteMarkerVersionId></Deleted>"
            + "<Deleted><Key>c</Key><VersionId>v1</VersionId></Deleted>"
            + "<Error><Key>d</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>")
        var quiet = result
        quiet.quiet = true
        #expect(quiet.xmlString() == xmlDeclaration
            + "<DeleteResult \(s3Namespace)><Error><Key>d</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>")
    }

    @Test func configurationDocuments() {
        #expect(Tagging([.init(key: "k", value: "v&")]).xmlString() == xmlDeclaration
            + "<Tagging \(s3Namespace)><TagSet><Tag><Key>k</Key><Value>v&amp;</Value></Tag></TagSet></Tagging>")
        #expect(Tagging().xmlString() == xmlDeclaration + "<Tagging \(s3Namespace)><TagSet></TagSet></Tagging>")
        #expect(VersioningConfiguration().xmlString() == xmlDeclaration + "<VersioningConfiguration \(s3Namespace)/>")
        #expect(VersioningConfiguration(status: .suspended).xmlString() == xmlDeclaration
            + "<VersioningConfiguration \(s3Namespace)><Status>Suspended</Status></VersioningConfiguration>")
        #expect(LocationConstraintResult(region: "eu-west-1").xmlString() == xmlDeclaration
            + "<LocationConstraint \(s3Namespace)>eu-west-1</LocationConstraint>")
        #expect(LocationConstraintResult(region: "us-east-1").xmlString() == xmlDeclaration
            + "<LocationConstraint \(s3Namespace)/>")
        #expect(LocationConstraintResult(region: nil).xmlString() == xmlDeclaration + "<LocationConstraint \(s3Namespace)/>")
        let lock = ObjectLockConfiguration(defaultRetention: .init(mode: .governance, period: .days(30)))
        #expect(lock.xmlString() == xmlDeclaration
            + "<ObjectLockConfiguration \(s3Namespace)><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
            + "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>")
        #expect(ObjectLockConfiguration(defaultRetention: .init(mode: .compliance, period: .years(1))).xmlString()
            .contains("<Mode>COMPLIANCE</Mode><Years>1</Years>"))
        #expect(ObjectRetention(mode: .compliance, retainUntilDate: sampleDate).xmlString() == xmlDeclaration
            + "<Retention \(s3Namespace)><Mode>COMPLIANCE</Mode><RetainUntilDate>2024-01-02T03:04:05.000Z</RetainUntilDate></Retention>")
        #expect(ObjectLegalHold(status: .on).xmlString() == xmlDeclaration
            + "<LegalHold \(s3Namespace)><Status>ON</Status></LegalHold>")
    }

    @Test func renderedConfigurationsDecodeBack() throws {
        let tagging = Tagging([.init(key: "a b", value: "c/d"), .init(key: "e", value: "")])
        #expect(try Tagging.decode(tagging.xmlBytes()) == tagging)
        let versioning = VersioningConfiguration(status: .enabled, mfaDelete: .disabled)
        #expect(try VersioningConfiguration.decode(versioning.xmlBytes()) == versioning)
        let lock = ObjectLockConfiguration(defaultRetention: .init(mode: .compliance, period: .years(2)))
        #expect(try ObjectLockConfiguration.decode(lock.xmlBytes()) == lock)
        let retention = ObjectRetention(mode: .governance, retainUntilDate: sampleDate)
        #expect(try ObjectRetention.decode(retention.xmlBytes()) == retention)
        #expect(try ObjectLegalHold.decode(ObjectLegalHold(status: .off).xmlBytes()) == ObjectLegalHold(status: .off))
    }
}
