using KlingService.Generation;

namespace KlingService.Tests.Generation;

public sealed class TaskCorrelationTests
{
    [Fact]
    public void The_same_task_always_maps_to_the_same_saga() =>
        Assert.Equal(TaskCorrelation.FromTaskId("abc-123"), TaskCorrelation.FromTaskId("abc-123"));

    [Fact]
    public void Different_tasks_map_to_different_sagas() =>
        Assert.NotEqual(TaskCorrelation.FromTaskId("abc-123"), TaskCorrelation.FromTaskId("abc-124"));

    [Fact]
    public void Is_a_version_5_uuid()
    {
        var text = TaskCorrelation.FromTaskId("task").ToString();
        Assert.Equal('5', text[14]);
        Assert.Contains(text[19], "89ab");
    }
}
