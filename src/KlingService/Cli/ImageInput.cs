namespace KlingService.Cli;

/// <summary>What <c>--image</c> names, as the command's Image: a file is read and sent as base64, an http(s) URL as it is.</summary>
public static class ImageInput
{
    public static async Task<string> LoadAsync(string image, CancellationToken cancellationToken)
    {
        if (File.Exists(image))
        {
            // Without a data: prefix the service tells PNG from JPEG by the bytes, whatever the file's name.
            return Convert.ToBase64String(await File.ReadAllBytesAsync(image, cancellationToken));
        }

        if (Uri.TryCreate(image, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            return image;
        }

        throw new CliException($"--image: '{image}' is neither a file nor an http(s) URL.");
    }
}
