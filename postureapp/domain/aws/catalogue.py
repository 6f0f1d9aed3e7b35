"""The published IAM privilege-escalation methods, as data.

Each method is the set of actions that together let a principal gain rights it does not
hold, with the resource type an action must reach (an IAM action on AWS-owned policies,
or on nothing of this account, escalates nothing) and, for methods that go through a
resource that must already exist, what that resource is.

Sources (action names only; see ``tests/regression/aws/ATTRIBUTION.md``):

* ``rhino-N``: Rhino Security Labs, "AWS IAM Privilege Escalation Methods" (methods
  1-28 of github.com/RhinoSecurityLabs/AWS-IAM-Privilege-Escalation);
* ``bishopfox:NAME``: Bishop Fox, iam-vulnerable (MIT), its 31 paths;
* ``prowler:KEY``: Prowler (Apache-2.0), ``privilege_escalation_policies_combination``;
* ``pathfinding``: DataDog's pathfinding.cloud, as cited by Prowler.
"""

from __future__ import annotations

from dataclasses import dataclass

# Resource spaces an action must reach. "other-user": a user other than the principal
# itself (minting one's own access key escalates nothing).
POLICY, USER, OTHER_USER, GROUP, ROLE = "policy", "user", "other-user", "group", "role"


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    reach: str | None = None  # None: any resource of the action's service will do


@dataclass(frozen=True, slots=True)
class Method:
    id: str
    title: str
    steps: tuple[Step, ...]
    prerequisite: str = ""  # a resource that must already exist, when there is one
    sources: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(step.action for step in self.steps)


def _m(
    id: str, title: str, *steps: Step | str, prerequisite: str = "", sources: tuple[str, ...] = ()
) -> Method:
    return Method(
        id,
        title,
        tuple(Step(s) if isinstance(s, str) else s for s in steps),
        prerequisite,
        sources,
    )


PASS = Step("iam:PassRole", ROLE)
_FN = "an existing Lambda function whose role has more rights"
_INSTANCE = "a running instance whose instance profile has more rights"

# One method per paragraph reads better than one argument per line.
# fmt: off
METHODS: tuple[Method, ...] = (
    # -- IAM on policies, principals and memberships -----------------------------------
    _m("iam-create-policy-version",
       "rewrite a managed policy with a new default version",
       Step("iam:CreatePolicyVersion", POLICY),
       sources=("rhino-1", "bishopfox:privesc1", "prowler:CreatePolicyVersion")),
    _m("iam-set-default-policy-version",
       "make an older, broader policy version the default",
       Step("iam:SetDefaultPolicyVersion", POLICY),
       prerequisite="a managed policy with a broader non-default version",
       sources=("rhino-2", "bishopfox:privesc2", "prowler:SetDefaultPolicyVersion")),
    _m("iam-create-access-key",
       "mint an access key for another user", Step("iam:CreateAccessKey", OTHER_USER),
       sources=("rhino-4", "bishopfox:privesc4", "prowler:iam:CreateAccessKey")),
    _m("iam-create-login-profile",
       "set a console password for another user", Step("iam:CreateLoginProfile", OTHER_USER),
       sources=("rhino-5", "bishopfox:privesc5", "prowler:iam:CreateLoginProfile")),
    _m("iam-update-login-profile",
       "change another user's console password", Step("iam:UpdateLoginProfile", OTHER_USER),
       sources=("rhino-6", "bishopfox:privesc6", "prowler:iam:UpdateLoginProfile")),
    _m("iam-attach-user-policy",
       "attach any managed policy to a user", Step("iam:AttachUserPolicy", USER),
       sources=("rhino-7", "bishopfox:privesc7", "prowler:iam:AttachUserPolicy")),
    _m("iam-attach-group-policy",
       "attach any managed policy to a group", Step("iam:AttachGroupPolicy", GROUP),
       sources=("rhino-8", "bishopfox:privesc8", "prowler:iam:AttachGroupPolicy")),
    _m("iam-attach-role-policy",
       "attach any managed policy to a role", Step("iam:AttachRolePolicy", ROLE),
       sources=("rhino-9", "bishopfox:privesc9", "prowler:iam:AttachRolePolicy")),
    _m("iam-put-user-policy",
       "write an inline policy of a user", Step("iam:PutUserPolicy", USER),
       sources=("rhino-10", "bishopfox:privesc10", "prowler:iam:PutUserPolicy")),
    _m("iam-put-group-policy",
       "write an inline policy of a group", Step("iam:PutGroupPolicy", GROUP),
       sources=("rhino-11", "bishopfox:privesc11", "prowler:iam:PutGroupPolicy")),
    _m("iam-put-role-policy",
       "write an inline policy of a role", Step("iam:PutRolePolicy", ROLE),
       sources=("rhino-12", "bishopfox:privesc12", "prowler:iam:PutRolePolicy")),
    _m("iam-add-user-to-group",
       "join a more privileged group", Step("iam:AddUserToGroup", GROUP),
       sources=("rhino-13", "bishopfox:privesc13", "prowler:iam:AddUserToGroup")),
    # A trust policy naming the principal's own ARN needs no sts:AssumeRole grant, so the
    # edit alone is enough.
    _m("iam-update-assume-role-policy",
       "rewrite a role's trust policy to assume it", Step("iam:UpdateAssumeRolePolicy", ROLE),
       sources=("rhino-14", "bishopfox:privesc14", "prowler:iam:UpdateAssumeRolePolicy")),
    # -- iam:PassRole to a service that runs code with the role -------------------------
    _m("ec2-run-instances",
       "launch an instance with a more privileged role", PASS, "ec2:RunInstances",
       sources=("rhino-3", "bishopfox:privesc3", "prowler:PassRole+EC2")),
    _m("ec2-spot-instances",
       "request a spot instance with a more privileged role", PASS, "ec2:RequestSpotInstances",
       sources=("prowler:PassRole+EC2SpotInstances",)),
    _m("lambda-create-invoke",
       "create a function with a more privileged role and invoke it", PASS,
       "lambda:CreateFunction", "lambda:InvokeFunction",
       sources=("rhino-15", "bishopfox:privesc15", "prowler:PassRole+CreateLambda+Invoke")),
    _m("lambda-create-add-permission",
       "create a function and let another account invoke it", PASS, "lambda:CreateFunction",
       "lambda:AddPermission",
       sources=("rhino-16", "prowler:PassRole+CreateLambda+AddPermission")),
    _m("lambda-create-event-source",
       "create a function and trigger it from a stream", PASS, "lambda:CreateFunction",
       "lambda:CreateEventSourceMapping",
       sources=("rhino-17",
                "bishopfox:privesc16",
                "prowler:PassRole+CreateLambda+ExistingDynamo")),
    _m("glue-create-dev-endpoint",
       "create a Glue dev endpoint with a role and log in", PASS, "glue:CreateDevEndpoint",
       sources=("rhino-19", "bishopfox:privesc18", "prowler:PassRole+GlueCreateDevEndpoint")),
    _m("glue-create-job-run",
       "create a Glue job with a role and run it", PASS, "glue:CreateJob", "glue:StartJobRun",
       sources=("prowler:PassRole+GlueCreateJob+StartJobRun",)),
    _m("glue-create-job-trigger",
       "create a Glue job with a role and a trigger", PASS, "glue:CreateJob", "glue:CreateTrigger",
       sources=("prowler:PassRole+GlueCreateJob+CreateTrigger",)),
    _m("glue-update-job-run",
       "give a Glue job a role and run it", PASS, "glue:UpdateJob", "glue:StartJobRun",
       prerequisite="an existing Glue job",
       sources=("prowler:PassRole+GlueUpdateJob+StartJobRun",)),
    _m("glue-update-job-trigger",
       "give a Glue job a role and a trigger", PASS, "glue:UpdateJob", "glue:CreateTrigger",
       prerequisite="an existing Glue job",
       sources=("prowler:PassRole+GlueUpdateJob+CreateTrigger",)),
    _m("cloudformation-create-stack",
       "create a stack run by a more privileged role", PASS, "cloudformation:CreateStack",
       sources=("rhino-21", "bishopfox:privesc20", "prowler:PassRole+CloudFormationCreateStack")),
    _m("cloudformation-create-stack-set",
       "create a stack set run by a role", PASS, "cloudformation:CreateStackSet",
       "cloudformation:CreateStackInstances",
       sources=("prowler:PassRole+CloudFormationCreateStackSet",)),
    _m("cloudformation-update-stack-set",
       "give a stack set a more privileged role", PASS, "cloudformation:UpdateStackSet",
       prerequisite="an existing stack set",
       sources=("prowler:PassRole+CloudFormationUpdateStackSet",)),
    _m("datapipeline-create",
       "create a pipeline run by a role", PASS, "datapipeline:CreatePipeline",
       "datapipeline:PutPipelineDefinition",
       sources=("rhino-22", "bishopfox:privesc21", "prowler:PassRole+DataPipeline")),
    _m("codestar-create-project",
       "create a CodeStar project with a role", PASS, "codestar:CreateProject",
       sources=("rhino-24", "prowler:PassRole+CodeStar")),
    _m("codebuild-create-start",
       "create a CodeBuild project with a role and build it", PASS, "codebuild:CreateProject",
       "codebuild:StartBuild",
       sources=("bishopfox:privesc-codeBuildCreateProjectPassRole",
                "prowler:PassRole+CodeBuildCreateProject+StartBuild")),
    _m("codebuild-create-start-batch",
       "create a CodeBuild project with a role and batch-build", PASS, "codebuild:CreateProject",
       "codebuild:StartBuildBatch",
       sources=("prowler:PassRole+CodeBuildCreateProject+StartBuildBatch",)),
    _m("autoscaling-create-group",
       "create an Auto Scaling group launching a role", PASS, "autoscaling:CreateAutoScalingGroup",
       "autoscaling:CreateLaunchConfiguration", sources=("prowler:PassRole+CreateAutoScaling",)),
    _m("autoscaling-launch-template",
       "create an Auto Scaling group from a new launch template", PASS,
       "autoscaling:CreateAutoScalingGroup", "ec2:CreateLaunchTemplate", sources=("pathfinding",)),
    _m("autoscaling-update-group",
       "point an Auto Scaling group at a new launch configuration", PASS,
       "autoscaling:UpdateAutoScalingGroup", "autoscaling:CreateLaunchConfiguration",
       prerequisite="an existing Auto Scaling group",
       sources=("prowler:PassRole+UpdateAutoScaling",)),
    _m("ecs-task-definition-service",
       "register a task definition with a role and run a service", PASS,
       "ecs:RegisterTaskDefinition", "ecs:CreateService",
       sources=("prowler:PassRole+ECS+RegisterTaskDef+CreateService",)),
    _m("ecs-task-definition-run",
       "register a task definition with a role and run it", PASS, "ecs:RegisterTaskDefinition",
       "ecs:RunTask", sources=("prowler:PassRole+ECS+RegisterTaskDef+RunTask",)),
    _m("ecs-task-definition-start",
       "register a task definition with a role and start it", PASS, "ecs:RegisterTaskDefinition",
       "ecs:StartTask", sources=("prowler:PassRole+ECS+RegisterTaskDef+StartTask",)),
    _m("ecs-run-task",
       "run an existing task definition overriding its role", PASS, "ecs:RunTask",
       prerequisite="an existing ECS cluster and task definition",
       sources=("prowler:PassRole+ECS+RunTask",)),
    _m("ecs-start-task",
       "start an existing task definition overriding its role", PASS, "ecs:StartTask",
       prerequisite="an existing ECS container instance",
       sources=("prowler:PassRole+ECS+StartTask",)),
    _m("sagemaker-notebook",
       "create a notebook instance with a role", PASS, "sagemaker:CreateNotebookInstance",
       sources=("rhino-27",
                "bishopfox:privesc-sageMakerCreateNotebookPassRole",
                "prowler:PassRole+SageMakerCreateNotebookInstance")),
    _m("sagemaker-training-job",
       "run a training job with a role", PASS, "sagemaker:CreateTrainingJob",
       sources=("bishopfox:privesc-sageMakerCreateTrainingJob",
                "prowler:PassRole+SageMakerCreateTrainingJob")),
    _m("sagemaker-processing-job",
       "run a processing job with a role", PASS, "sagemaker:CreateProcessingJob",
       sources=("bishopfox:privesc-sageMakerCreateProcessingJob",
                "prowler:PassRole+SageMakerCreateProcessingJob")),
    _m("apprunner-create-service",
       "create an App Runner service with a role", PASS, "apprunner:CreateService",
       sources=("prowler:PassRole+AppRunnerCreateService",)),
    _m("agentcore-code-interpreter",
       "create a Bedrock AgentCore code interpreter with a role", PASS,
       "bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:InvokeCodeInterpreter",
       sources=("prowler:PassRole+AgentCoreCreateInterpreter+InvokeInterpreter",)),
    # -- code or shells in what already runs with a role --------------------------------
    _m("lambda-update-code",
       "replace the code of a function that has a role", "lambda:UpdateFunctionCode",
       prerequisite=_FN,
       sources=("rhino-18", "bishopfox:privesc17", "prowler:lambda:UpdateFunctionCode")),
    _m("lambda-update-configuration",
       "add a layer to a function that has a role", "lambda:UpdateFunctionConfiguration",
       prerequisite=_FN, sources=("rhino-26", "prowler:lambda:UpdateFunctionConfiguration")),
    _m("glue-update-dev-endpoint",
       "put one's SSH key on a Glue dev endpoint", "glue:UpdateDevEndpoint",
       prerequisite="an existing Glue dev endpoint with a role",
       sources=("rhino-20", "bishopfox:privesc19", "prowler:GlueUpdateDevEndpoint")),
    _m("cloudformation-update-stack",
       "change a stack run by its service role", "cloudformation:UpdateStack",
       prerequisite="an existing stack with a service role",
       sources=("bishopfox:privesc-cloudFormationUpdateStack",
                "prowler:CloudFormationUpdateStack")),
    _m("cloudformation-change-set",
       "run a change set on a stack with a service role", "cloudformation:CreateChangeSet",
       "cloudformation:ExecuteChangeSet", prerequisite="an existing stack with a service role",
       sources=("prowler:CloudFormationChangeSet",)),
    _m("codebuild-start-build",
       "run a build of a project with a role (buildspec override)", "codebuild:StartBuild",
       prerequisite="an existing CodeBuild project with a role",
       sources=("prowler:CodeBuildStartBuild",)),
    _m("codebuild-start-build-batch",
       "run a batch build of a project with a role", "codebuild:StartBuildBatch",
       prerequisite="an existing CodeBuild project with a role",
       sources=("prowler:CodeBuildStartBuildBatch",)),
    _m("sagemaker-presigned-url",
       "open an existing notebook with its role", "sagemaker:CreatePresignedNotebookInstanceUrl",
       prerequisite="an existing notebook instance with a role",
       sources=("rhino-28",
                "bishopfox:privesc-sageMakerCreatePresignedNotebookURL",
                "prowler:SageMakerCreatePresignedNotebookInstanceUrl")),
    _m("sagemaker-lifecycle-config",
       "run a lifecycle script in an existing notebook",
       "sagemaker:CreateNotebookInstanceLifecycleConfig", "sagemaker:UpdateNotebookInstance",
       "sagemaker:StopNotebookInstance", "sagemaker:StartNotebookInstance",
       prerequisite="an existing notebook instance with a role",
       sources=("prowler:SageMakerNotebookLifecycleConfig",)),
    _m("ssm-send-command",
       "run commands on an instance with its role", "ssm:SendCommand", prerequisite=_INSTANCE,
       sources=("bishopfox:privesc-ssmSendCommand", "prowler:SSMSendCommand")),
    _m("ssm-start-session",
       "open a shell on an instance with its role", "ssm:StartSession", prerequisite=_INSTANCE,
       sources=("bishopfox:privesc-ssmStartSession", "prowler:SSMStartSession")),
    _m("ec2-instance-connect",
       "push an SSH key to an instance with its role", "ec2-instance-connect:SendSSHPublicKey",
       prerequisite=_INSTANCE,
       sources=("bishopfox:privesc-ec2InstanceConnect",
                "prowler:EC2InstanceConnect+SendSSHPublicKey")),
    _m("ec2-user-data",
       "change an instance's user data and restart it", "ec2:ModifyInstanceAttribute",
       "ec2:StopInstances", "ec2:StartInstances", prerequisite=_INSTANCE,
       sources=("prowler:EC2ModifyInstanceAttribute",)),
    _m("ec2-launch-template-version",
       "add a launch template version instances will use", "ec2:CreateLaunchTemplateVersion",
       "ec2:ModifyLaunchTemplate",
       prerequisite="a launch template used with a more privileged role",
       sources=("prowler:EC2ModifyLaunchTemplate",)),
    _m("ecs-execute-command",
       "open a shell in a running task with its role", "ecs:ExecuteCommand",
       prerequisite="a running task with ECS Exec and a role",
       sources=("prowler:ECS+ExecuteCommand",)),
    _m("apprunner-update-service",
       "change the code of an App Runner service with a role", "apprunner:UpdateService",
       prerequisite="an existing App Runner service with a role",
       sources=("prowler:AppRunnerUpdateService",)),
    _m("agentcore-session",
       "run code in an existing Bedrock AgentCore interpreter",
       "bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter",
       prerequisite="an existing code interpreter with a role",
       sources=("prowler:AgentCoreSessionInvoke",)),
    _m("codestar-create-from-template",
       "create a CodeStar project from a template", "codestar:CreateProjectFromTemplate",
       sources=("rhino-23",)),
    _m("codestar-associate-team-member",
       "create a CodeStar project and own it", "codestar:CreateProject",
       "codestar:AssociateTeamMember", sources=("rhino-25",)),
)
# fmt: on
