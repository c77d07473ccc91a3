namespace KlingService.Kling;

public enum KlingErrorKind
{
    /// <summary>Worth trying again later: 429, 5xx, timeouts, connection failures.</summary>
    Transient,

    /// <summary>The provider refused the request's content (400, 422).</summary>
    Rejected,

    /// <summary>The key was refused (401, 403).</summary>
    Unauthorized,

    /// <summary>The provider does not know the task (404).</summary>
    NotFound,
}
