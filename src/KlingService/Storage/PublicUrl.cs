namespace KlingService.Storage;

/// <summary>A stored video's permanent URL under <c>Storage:PublicBaseUrl</c>.</summary>
public static class PublicUrl
{
    public static string Under(Uri baseUrl, string key) =>
        $"{baseUrl.AbsoluteUri.TrimEnd('/')}/{string.Join('/', key.Split('/').Select(Uri.EscapeDataString))}";
}
