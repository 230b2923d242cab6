import PodgateModel

extension FieldReader {
    /// A Kubernetes LabelSelector. `{}` selects everything; nil when absent
    /// or when it has errors (recorded).
    mutating func labelSelector(_ value: DocumentValue?, _ field: String) -> LabelSelector? {
        guard let selector = map(value, field) else { return nil }
        let before = problems.count
        let matchLabels = stringMap(selector["matchLabels"], "\(field).matchLabels")
        var requirements: [LabelSelector.Requirement] = []
        for (index, item) in (list(selector["matchExpressions"], "\(field).matchExpressions") ?? []).enumerated() {
            if let requirement = labelRequirement(item, "\(field).matchExpressions[\(index)]") {
                requirements.append(requirement)
            }
        }
        guard problems.count == before else { return nil }
        return LabelSelector(matchLabels: matchLabels, matchExpressions: requirements)
    }

    private mutating func labelRequirement(_ value: DocumentValue, _ field: String) -> LabelSelector.Requirement? {
        guard value.mapEntries != nil else {
            fail(field, "must be a map")
            return nil
        }
        let expression = value
        let key = requiredString(expression["key"], "\(field).key")
        let operatorText = requiredString(expression["operator"], "\(field).operator")
        let values = stringList(expression["values"], "\(field).values")
        guard let key, let operatorText else { return nil }
        guard let op = LabelSelector.Operator(rawValue: operatorText) else {
            fail("\(field).operator", "\"\(operatorText)\" is not In, NotIn, Exists or DoesNotExist")
            return nil
        }
        let needsValues = op == .in || op == .notIn
        if needsValues && values.isEmpty {
            fail("\(field).values", "must not be empty for \(op.rawValue)")
            return nil
        }
        if !needsValues && !values.isEmpty {
            fail("\(field).values", "must be empty for \(op.rawValue)")
            return nil
        }
        return LabelSelector.Requirement(key: key, operator: op, values: values)
    }
}
