extension Tagging {
    /// Checks S3's tag rules, throwing S3's error for the first violation: more than `maxTags`
    /// object tags is `BadRequest` ("Object tags cannot be greater than 10", the code S3 answers
    /// PutObjectTagging and the `x-amz-tagging` header of PutObject with), more than `maxTags`
    /// bucket tags is `InvalidTag`; then, as `InvalidTag`: keys 1...128 and values 0...256
    /// Unicode characters drawn from letters, digits, whitespace and `+ - = . _ : / @`; no `aws:`
    /// key prefix; no duplicate keys.
    public func validate(maxTags: Int = Tagging.maxObjectTags) throws(S3Error) {
        if tags.count > maxTags {
            throw maxTags == Self.maxObjectTags
                ? S3Error(.badRequest, message: "Object tags cannot be greater than \(maxTags)")
                : S3Error.invalidTag("Bucket tag count cannot be greater than \(maxTags)")
        }
        var seen = Set<String>()
        for tag in tags {
            let keyLength = tag.key.unicodeScalars.count
            if keyLength == 0 || !Self.hasOnlyAllowedCharacters(tag.key) {
                throw S3Error.invalidTag("The TagKey you have provided is invalid")
            }
            if keyLength > Self.maxKeyLength {
                throw S3Error.invalidTag("The TagKey you have provided is too long, max \(Self.maxKeyLength)")
            }
            if tag.key.lowercased().hasPrefix("aws:") {
                throw S3Error.invalidTag("Your TagKey cannot be prefixed with aws:")
            }
            if tag.value.unicodeScalars.count > Self.maxValueLength {
                throw S3Error.invalidTag("The TagValue you have provided is too long, max \(Self.maxValueLength)")
            }
            if !Self.hasOnlyAllowedCharacters(tag.value) {
                throw S3Error.invalidTag("The TagValue you have provided is invalid")
            }
            if !seen.insert(tag.key).inserted {
                throw S3Error.invalidTag("Cannot provide multiple Tags with the same key")
            }
        }
    }

    /// Letters, marks, digits, whitespace and `+ - = . _ : / @`, per AWS tag restrictions.
    static func hasOnlyAllowedCharacters(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
                 .spaceSeparator:
                return true
            default:
                return "+-=._:/@".unicodeScalars.contains(scalar)
            }
        }
    }
}
