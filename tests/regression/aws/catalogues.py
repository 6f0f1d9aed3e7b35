"""The published escalation catalogues the bank is scored on, as data (see ATTRIBUTION.md).

These lists are copied from their sources, not from postureapp's own catalogue
(``postureapp.domain.aws.catalogue``), so the score measures the engine against what the
researchers published, not against itself.
"""

from __future__ import annotations

# Prowler (Apache-2.0), prowler/providers/aws/services/iam/lib/privilege_escalation.py,
# ``privilege_escalation_policies_combination`` as of commit 02a5ce89: every combination
# of actions it reports as privilege escalation.
PROWLER: dict[str, tuple[str, ...]] = {
    "OverPermissiveIAM": ("iam:*",),
    "IAMPut": ("iam:Put*",),
    "CreatePolicyVersion": ("iam:CreatePolicyVersion",),
    "SetDefaultPolicyVersion": ("iam:SetDefaultPolicyVersion",),
    "iam:CreateAccessKey": ("iam:CreateAccessKey",),
    "iam:CreateLoginProfile": ("iam:CreateLoginProfile",),
    "iam:UpdateLoginProfile": ("iam:UpdateLoginProfile",),
    "iam:AttachUserPolicy": ("iam:AttachUserPolicy",),
    "iam:AttachGroupPolicy": ("iam:AttachGroupPolicy",),
    "iam:AttachRolePolicy": ("iam:AttachRolePolicy",),
    "iam:PutGroupPolicy": ("iam:PutGroupPolicy",),
    "iam:PutRolePolicy": ("iam:PutRolePolicy",),
    "iam:PutUserPolicy": ("iam:PutUserPolicy",),
    "iam:AddUserToGroup": ("iam:AddUserToGroup",),
    "iam:UpdateAssumeRolePolicy": ("iam:UpdateAssumeRolePolicy",),
    "CreateAccessKey+DeleteAccessKey": ("iam:CreateAccessKey", "iam:DeleteAccessKey"),
    "AttachUserPolicy+CreateAccessKey": ("iam:AttachUserPolicy", "iam:CreateAccessKey"),
    "PutUserPolicy+CreateAccessKey": ("iam:PutUserPolicy", "iam:CreateAccessKey"),
    "AttachRolePolicy+UpdateAssumeRolePolicy": (
        "iam:AttachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
    ),
    "CreatePolicyVersion+UpdateAssumeRolePolicy": (
        "iam:CreatePolicyVersion",
        "iam:UpdateAssumeRolePolicy",
    ),
    "PutRolePolicy+UpdateAssumeRolePolicy": ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"),
    "AssumeRole+AttachRolePolicy": ("sts:AssumeRole", "iam:AttachRolePolicy"),
    "AssumeRole+PutRolePolicy": ("sts:AssumeRole", "iam:PutRolePolicy"),
    "AssumeRole+UpdateAssumeRolePolicy": ("sts:AssumeRole", "iam:UpdateAssumeRolePolicy"),
    "AssumeRole+CreatePolicyVersion": ("sts:AssumeRole", "iam:CreatePolicyVersion"),
    "PassRole+EC2": ("iam:PassRole", "ec2:RunInstances"),
    "PassRole+EC2SpotInstances": ("iam:PassRole", "ec2:RequestSpotInstances"),
    "EC2ModifyInstanceAttribute": (
        "ec2:ModifyInstanceAttribute",
        "ec2:StopInstances",
        "ec2:StartInstances",
    ),
    "EC2ModifyLaunchTemplate": ("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"),
    "EC2InstanceConnect+SendSSHPublicKey": (
        "ec2-instance-connect:SendSSHPublicKey",
        "ec2:DescribeInstances",
    ),
    "PassRole+CreateLambda+Invoke": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
    ),
    "PassRole+CreateLambda+ExistingDynamo": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
    ),
    "PassRole+CreateLambda+NewDynamo": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
        "dynamodb:CreateTable",
        "dynamodb:PutItem",
    ),
    "PassRole+CreateLambda+AddPermission": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:AddPermission",
    ),
    "lambda:UpdateFunctionCode": ("lambda:UpdateFunctionCode",),
    "lambda:UpdateFunctionConfiguration": ("lambda:UpdateFunctionConfiguration",),
    "UpdateFunctionCode+InvokeFunction": ("lambda:UpdateFunctionCode", "lambda:InvokeFunction"),
    "UpdateFunctionCode+AddPermission": ("lambda:UpdateFunctionCode", "lambda:AddPermission"),
    "PassRole+GlueCreateDevEndpoint": ("iam:PassRole", "glue:CreateDevEndpoint"),
    "GlueUpdateDevEndpoint": ("glue:UpdateDevEndpoint",),
    "PassRole+GlueCreateJob+StartJobRun": ("iam:PassRole", "glue:CreateJob", "glue:StartJobRun"),
    "PassRole+GlueCreateJob+CreateTrigger": (
        "iam:PassRole",
        "glue:CreateJob",
        "glue:CreateTrigger",
    ),
    "PassRole+GlueUpdateJob+StartJobRun": ("iam:PassRole", "glue:UpdateJob", "glue:StartJobRun"),
    "PassRole+GlueUpdateJob+CreateTrigger": (
        "iam:PassRole",
        "glue:UpdateJob",
        "glue:CreateTrigger",
    ),
    "PassRole+CloudFormationCreateStack": ("iam:PassRole", "cloudformation:CreateStack"),
    "CloudFormationUpdateStack": ("cloudformation:UpdateStack",),
    "PassRole+CloudFormationCreateStackSet": (
        "iam:PassRole",
        "cloudformation:CreateStackSet",
        "cloudformation:CreateStackInstances",
    ),
    "PassRole+CloudFormationUpdateStackSet": ("iam:PassRole", "cloudformation:UpdateStackSet"),
    "CloudFormationChangeSet": (
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
    ),
    "PassRole+DataPipeline": (
        "iam:PassRole",
        "datapipeline:CreatePipeline",
        "datapipeline:PutPipelineDefinition",
        "datapipeline:ActivatePipeline",
    ),
    "PassRole+CodeStar": ("iam:PassRole", "codestar:CreateProject"),
    "PassRole+CodeBuildCreateProject+StartBuild": (
        "iam:PassRole",
        "codebuild:CreateProject",
        "codebuild:StartBuild",
    ),
    "PassRole+CodeBuildCreateProject+StartBuildBatch": (
        "iam:PassRole",
        "codebuild:CreateProject",
        "codebuild:StartBuildBatch",
    ),
    "CodeBuildStartBuild": ("codebuild:StartBuild",),
    "CodeBuildStartBuildBatch": ("codebuild:StartBuildBatch",),
    "PassRole+CreateAutoScaling": (
        "iam:PassRole",
        "autoscaling:CreateAutoScalingGroup",
        "autoscaling:CreateLaunchConfiguration",
    ),
    "PassRole+UpdateAutoScaling": (
        "iam:PassRole",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:CreateLaunchConfiguration",
    ),
    "PassRole+ECS+RegisterTaskDef+CreateService": (
        "iam:PassRole",
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
    ),
    "PassRole+ECS+RegisterTaskDef+RunTask": (
        "iam:PassRole",
        "ecs:RegisterTaskDefinition",
        "ecs:RunTask",
    ),
    "PassRole+ECS+RegisterTaskDef+StartTask": (
        "iam:PassRole",
        "ecs:RegisterTaskDefinition",
        "ecs:StartTask",
    ),
    "PassRole+ECS+StartTask": (
        "iam:PassRole",
        "ecs:StartTask",
        "ecs:RegisterContainerInstance",
        "ecs:DeregisterContainerInstance",
    ),
    "PassRole+ECS+RunTask": ("iam:PassRole", "ecs:RunTask"),
    "ECS+ExecuteCommand": ("ecs:ExecuteCommand", "ecs:DescribeTasks"),
    "PassRole+SageMakerCreateNotebookInstance": (
        "iam:PassRole",
        "sagemaker:CreateNotebookInstance",
    ),
    "PassRole+SageMakerCreateTrainingJob": ("iam:PassRole", "sagemaker:CreateTrainingJob"),
    "PassRole+SageMakerCreateProcessingJob": ("iam:PassRole", "sagemaker:CreateProcessingJob"),
    "SageMakerCreatePresignedNotebookInstanceUrl": (
        "sagemaker:CreatePresignedNotebookInstanceUrl",
    ),
    "SageMakerNotebookLifecycleConfig": (
        "sagemaker:CreateNotebookInstanceLifecycleConfig",
        "sagemaker:StopNotebookInstance",
        "sagemaker:UpdateNotebookInstance",
        "sagemaker:StartNotebookInstance",
    ),
    "SSMStartSession": ("ssm:StartSession",),
    "SSMSendCommand": ("ssm:SendCommand",),
    "PassRole+AppRunnerCreateService": ("iam:PassRole", "apprunner:CreateService"),
    "AppRunnerUpdateService": ("apprunner:UpdateService",),
    "PassRole+AgentCoreCreateInterpreter+InvokeInterpreter": (
        "iam:PassRole",
        "bedrock-agentcore:CreateCodeInterpreter",
        "bedrock-agentcore:InvokeCodeInterpreter",
    ),
    "AgentCoreSessionInvoke": (
        "bedrock-agentcore:StartCodeInterpreterSession",
        "bedrock-agentcore:InvokeCodeInterpreter",
    ),
}

# Rhino Security Labs, "AWS IAM Privilege Escalation Methods"
# (github.com/RhinoSecurityLabs/AWS-IAM-Privilege-Escalation, README): the required
# permissions of each method, by its number there ("possibly" permissions left out).
RHINO: dict[str, tuple[str, ...]] = {
    "1 CreatePolicyVersion": ("iam:CreatePolicyVersion",),
    "2 SetDefaultPolicyVersion": ("iam:SetDefaultPolicyVersion",),
    "3 EC2 with instance profile": ("iam:PassRole", "ec2:RunInstances"),
    "4 CreateAccessKey": ("iam:CreateAccessKey",),
    "5 CreateLoginProfile": ("iam:CreateLoginProfile",),
    "6 UpdateLoginProfile": ("iam:UpdateLoginProfile",),
    "7 AttachUserPolicy": ("iam:AttachUserPolicy",),
    "8 AttachGroupPolicy": ("iam:AttachGroupPolicy",),
    "9 AttachRolePolicy": ("iam:AttachRolePolicy",),
    "10 PutUserPolicy": ("iam:PutUserPolicy",),
    "11 PutGroupPolicy": ("iam:PutGroupPolicy",),
    "12 PutRolePolicy": ("iam:PutRolePolicy",),
    "13 AddUserToGroup": ("iam:AddUserToGroup",),
    "14 UpdateAssumeRolePolicy": ("iam:UpdateAssumeRolePolicy", "sts:AssumeRole"),
    "15 Lambda invoke": ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"),
    "16 Lambda cross-account": ("iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission"),
    "17 Lambda DynamoDB trigger": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
    ),
    "18 UpdateFunctionCode": ("lambda:UpdateFunctionCode",),
    "19 Glue dev endpoint": ("iam:PassRole", "glue:CreateDevEndpoint"),
    "20 UpdateDevEndpoint": ("glue:UpdateDevEndpoint",),
    "21 CloudFormation": ("iam:PassRole", "cloudformation:CreateStack"),
    "22 Data Pipeline": (
        "iam:PassRole",
        "datapipeline:CreatePipeline",
        "datapipeline:PutPipelineDefinition",
    ),
    "23 CodeStar from template": ("codestar:CreateProjectFromTemplate",),
    "24 CodeStar with role": ("codestar:CreateProject", "iam:PassRole"),
    "25 CodeStar team member": ("codestar:CreateProject", "codestar:AssociateTeamMember"),
    "26 Lambda layer": ("lambda:UpdateFunctionConfiguration",),
    "27 SageMaker new notebook": (
        "sagemaker:CreateNotebookInstance",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        "iam:PassRole",
    ),
    "28 SageMaker presigned URL": ("sagemaker:CreatePresignedNotebookInstanceUrl",),
}
