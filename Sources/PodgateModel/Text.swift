extension StringProtocol {
    /// Without leading and trailing white space (Character.isWhitespace); no Foundation.
    public var trimmingWhitespace: String {
        var text = self[...]
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }
}
