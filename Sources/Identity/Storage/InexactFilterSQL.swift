import SQLKit

extension SQLSelectBuilder {
    /// Narrows the query by keystone's inexact filters (`Domain/InexactFilter`): a `LIKE` on the
    /// column named by each filter's attribute, `LOWER` on both sides when case is ignored. LIKE
    /// is case-sensitive on both databases (SQLite connections set `case_sensitive_like`).
    @discardableResult
    func filter(_ filters: [InexactFilter]) -> Self {
        for f in filters {
            if f.ignoreCase {
                self.where(SQLQueryString("LOWER(\(ident: f.attribute)) LIKE LOWER(\(bind: f.likePattern)) ESCAPE '!'"))
            } else {
                self.where(SQLQueryString("\(ident: f.attribute) LIKE \(bind: f.likePattern) ESCAPE '!'"))
            }
        }
        return self
    }
}
