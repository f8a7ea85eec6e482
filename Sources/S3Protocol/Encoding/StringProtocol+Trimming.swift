extension StringProtocol {
    /// Drops leading and trailing spaces, tabs, CRs and LFs.
    func trimmingXMLWhitespace() -> Substring {
        let substring = Substring(self)
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let start = substring.firstIndex(where: { !isSpace($0) }),
              let end = substring.lastIndex(where: { !isSpace($0) })
        else { return substring[substring.endIndex...] }
        return substring[start...end]
    }
}
