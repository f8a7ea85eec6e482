extension S3ErrorCode {
    /// The HTTP status code S3 answers with for this error.
    public var httpStatus: Int {
        switch self {
        case .permanentRedirect: 301
        case .notModified: 304
        case .temporaryRedirect: 307
        case .accessDenied, .accountProblem, .allAccessDisabled, .invalidAccessKeyId, .invalidObjectState,
             .invalidSecurity, .requestTimeTooSkewed, .signatureDoesNotMatch:
            403
        case .noSuchBucket, .noSuchBucketPolicy, .noSuchCORSConfiguration, .noSuchKey,
             .noSuchLifecycleConfiguration, .noSuchObjectLockConfiguration, .noSuchPublicAccessBlockConfiguration,
             .noSuchTagSet, .noSuchUpload, .noSuchVersion, .noSuchWebsiteConfiguration,
             .objectLockConfigurationNotFoundError, .ownershipControlsNotFoundError,
             .replicationConfigurationNotFoundError, .serverSideEncryptionConfigurationNotFoundError:
            404
        case .methodNotAllowed: 405
        case .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty, .conditionalRequestConflict,
             .invalidBucketState, .operationAborted:
            409
        case .missingContentLength: 411
        case .preconditionFailed: 412
        case .invalidRange, .invalidPartNumber: 416
        case .internalError: 500
        case .notImplemented: 501
        case .serviceUnavailable, .slowDown: 503
        case .accessControlListNotSupported, .authorizationHeaderMalformed, .authorizationQueryParametersError,
             .badDigest, .badRequest, .entityTooLarge, .entityTooSmall, .expiredToken, .illegalLocationConstraintException,
             .illegalVersioningConfigurationException, .incompleteBody, .invalidArgument, .invalidBucketName,
             .invalidChunkSizeError, .invalidDigest, .invalidEncryptionAlgorithmError, .invalidLocationConstraint,
             .invalidPart, .invalidPartOrder, .invalidRequest, .invalidRetentionPeriod, .invalidStorageClass,
             .invalidTag, .invalidToken, .invalidURI, .keyTooLongError, .malformedACLError, .malformedPOSTRequest,
             .malformedPolicy, .malformedTrailerError, .malformedXML, .maxMessageLengthExceeded, .metadataTooLarge,
             .missingRequestBodyError, .missingSecurityHeader, .requestHeaderSectionTooLarge, .requestTimeout,
             .tooManyBuckets, .unexpectedContent, .xAmzContentSHA256Mismatch:
            400
        }
    }

    /// Whether a response with this code carries an XML body (false only for `304 Not Modified`).
    public var hasResponseBody: Bool { self != .notModified }

    /// The message S3 sends with this code when nothing more specific applies.
    public var defaultMessage: String {
        switch self {
        case .accessControlListNotSupported: "The bucket does not allow ACLs"
        case .accessDenied: "Access Denied"
        case .accountProblem:
            "There is a problem with your account that prevents the operation from completing successfully."
        case .allAccessDisabled: "All access to this resource has been disabled."
        case .authorizationHeaderMalformed: "The authorization header is malformed."
        case .authorizationQueryParametersError: "The authorization query parameters are malformed or invalid."
        case .badDigest: "The Content-MD5 or checksum value you specified did not match what we received."
        case .badRequest: "Bad Request"
        case .bucketAlreadyExists:
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
        case .bucketAlreadyOwnedByYou:
            "Your previous request to create the named bucket succeeded and you already own it."
        case .bucketNotEmpty: "The bucket you tried to delete is not empty"
        case .conditionalRequestConflict:
            "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part."
        case .entityTooLarge: "Your proposed upload exceeds the maximum allowed size"
        case .entityTooSmall: "Your proposed upload is smaller than the minimum allowed object size."
        case .expiredToken: "The provided token has expired."
        case .illegalLocationConstraintException:
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
        case .illegalVersioningConfigurationException:
            "The versioning configuration specified in the request is invalid."
        case .incompleteBody: "You did not provide the number of bytes specified by the Content-Length HTTP header"
        case .internalError: "We encountered an internal error. Please try again."
        case .invalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records."
        case .invalidArgument: "Invalid Argument"
        case .invalidBucketName: "The specified bucket is not valid."
        case .invalidBucketState: "The request is not valid with the current state of the bucket."
        case .invalidChunkSizeError: "Only the last chunk is allowed to have a size less than 8192 bytes"
        case .invalidDigest: "The Content-MD5 you specified was invalid."
        case .invalidEncryptionAlgorithmError:
            "The encryption request you specified is not valid. The valid value is AES256."
        case .invalidLocationConstraint: "The specified location-constraint is not valid"
        case .invalidObjectState: "The operation is not valid for the object's storage class"
        case .invalidPart:
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
        case .invalidPartNumber: "The requested partnumber is not satisfiable"
        case .invalidPartOrder:
            "The list of parts was not in ascending order. The parts list must be specified in order by part number."
        case .invalidRange: "The requested range is not satisfiable"
        case .invalidRequest: "Invalid Request"
        case .invalidRetentionPeriod: "The retention period specified is invalid."
        case .invalidSecurity: "The provided security credentials are not valid."
        case .invalidStorageClass: "The storage class you specified is not valid"
        case .invalidTag: "The tag provided was not a valid tag."
        case .invalidToken: "The provided token is malformed or otherwise invalid."
        case .invalidURI: "Couldn't parse the specified URI."
        case .keyTooLongError: "Your key is too long"
        case .malformedACLError:
            "The XML you provided was not well-formed or did not validate against our published schema"
        case .malformedPOSTRequest: "The body of your POST request is not well-formed multipart/form-data."
        case .malformedPolicy: "The policy document is malformed."
        case .malformedTrailerError:
            "The request contained trailing data that was not well-formed or did not conform to our published schema."
        case .malformedXML:
            "The XML you provided was not well-formed or did not validate against our published schema"
        case .maxMessageLengthExceeded: "Your request was too big."
        case .metadataTooLarge: "Your metadata headers exceed the maximum allowed metadata size."
        case .methodNotAllowed: "The specified method is not allowed against this resource."
        case .missingContentLength: "You must provide the Content-Length HTTP header."
        case .missingRequestBodyError: "Request Body is empty"
        case .missingSecurityHeader: "Your request was missing a required header"
        case .noSuchBucket: "The specified bucket does not exist"
        case .noSuchBucketPolicy: "The bucket policy does not exist"
        case .noSuchCORSConfiguration: "The CORS configuration does not exist"
        case .noSuchKey: "The specified key does not exist."
        case .noSuchLifecycleConfiguration: "The lifecycle configuration does not exist"
        case .noSuchObjectLockConfiguration: "The specified object does not have a ObjectLock configuration"
        case .noSuchPublicAccessBlockConfiguration: "The public access block configuration was not found"
        case .noSuchTagSet: "The TagSet does not exist"
        case .noSuchUpload:
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        case .noSuchVersion: "The specified version does not exist."
        case .noSuchWebsiteConfiguration: "The specified bucket does not have a website configuration"
        case .notImplemented: "A header you provided implies functionality that is not implemented"
        case .notModified: "Not Modified"
        case .objectLockConfigurationNotFoundError: "Object Lock configuration does not exist for this bucket"
        case .operationAborted:
            "A conflicting conditional operation is currently in progress against this resource. Please try again."
        case .ownershipControlsNotFoundError: "The bucket ownership controls were not found"
        case .permanentRedirect:
            "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."
        case .preconditionFailed: "At least one of the pre-conditions you specified did not hold"
        case .replicationConfigurationNotFoundError: "The replication configuration was not found"
        case .requestHeaderSectionTooLarge: "Your request header section exceeds the maximum allowed size."
        case .requestTimeout:
            "Your socket connection to the server was not read from or written to within the timeout period."
        case .requestTimeTooSkewed: "The difference between the request time and the current time is too large."
        case .serverSideEncryptionConfigurationNotFoundError: "The server side encryption configuration was not found"
        case .serviceUnavailable: "Service is unable to handle request."
        case .signatureDoesNotMatch:
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        case .slowDown: "Please reduce your request rate."
        case .temporaryRedirect: "Please re-send this request to the specified temporary endpoint."
        case .tooManyBuckets: "You have attempted to create more buckets than allowed"
        case .unexpectedContent: "This request does not support content"
        case .xAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed."
        }
    }
}
